"""The registry: organisations (departments), their accounts and roles.

Genesis names the organisations and their first accounts. An organisation's admins add accounts to it,
suspend them and reinstate them. Execution reads account records from here to check signatures and to know
who a sender is.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.modules.base import Action, Args, Context, Module, ModuleError, StateView
from civichain.types import ACCOUNT_PATTERN
from civichain.types.genesis import AppGenesis
from civichain.codec import encode, decode

NAME = "registry"
Role = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
AccountName = Annotated[str, msgspec.Meta(pattern=ACCOUNT_PATTERN, max_length=127)]
ADMIN = "admin"


class Organisation(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A department that keeps records on the chain, and the validator it runs."""

    id: str
    name_zh: str
    name_en: str
    validator: str
    active: bool = True


class AccountRecord(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """An account: whose it is, its current public key, its roles, and whether it is suspended."""

    id: str
    organisation: str
    public_key: bytes
    roles: tuple[str, ...]
    suspended: bool = False
    created_at: int = 0


class AddAccount(Args, kw_only=True):
    """Arguments of `registry.add_account`."""

    id: AccountName
    public_key: Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
    roles: Annotated[tuple[Role, ...], msgspec.Meta(max_length=16)] = ()


class SuspendAccount(Args, kw_only=True):
    """Arguments of `registry.suspend_account`."""

    id: AccountName
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ReinstateAccount(Args, kw_only=True):
    """Arguments of `registry.reinstate_account`."""

    id: AccountName


def account_key(account: str) -> bytes:
    """Return the state key of an account record."""
    return b"registry/account/" + account.encode()


def organisation_key(organisation: str) -> bytes:
    """Return the state key of an organisation record."""
    return b"registry/org/" + organisation.encode()


def load_account(state: StateView, account: str) -> AccountRecord | None:
    """Return the account record of `account`, or None if there is none."""
    raw = state.get(account_key(account))
    return None if raw is None else decode(raw, AccountRecord, where=f"account {account}")


def apply_genesis(state: StateView, genesis: AppGenesis) -> None:
    """Write the genesis organisations and accounts."""
    for org in genesis.organisations:
        state.set(organisation_key(org.id), encode(Organisation(org.id, org.name_zh, org.name_en, org.validator)))
    for acc in genesis.accounts:
        record = AccountRecord(acc.id, acc.organisation, bytes.fromhex(acc.public_key), tuple(sorted(set(acc.roles))))
        state.set(account_key(acc.id), encode(record))


def apply_add_account(ctx: Context, args: AddAccount) -> None:
    """Add an account to the sender's organisation. Only the organisation's admins may."""
    _require_admin_of(ctx, ctx.sender.organisation)
    prefix = ctx.sender.organisation + "/"
    if not args.id.startswith(prefix):
        raise ModuleError("registry.bad_account_id", where="args.id", got=args.id,
                          expected=f"an id of the form {prefix}<name>")
    if ctx.state.get(account_key(args.id)) is not None:
        raise ModuleError("registry.account_exists", where="args.id", got=args.id, expected="a new account id")
    record = AccountRecord(args.id, ctx.sender.organisation, args.public_key, tuple(sorted(set(args.roles))),
                           created_at=ctx.block.height)
    ctx.save(account_key(args.id), record)
    ctx.emit(NAME, "account_added", args.id, organisation=record.organisation, roles=",".join(record.roles))


def apply_suspend_account(ctx: Context, args: SuspendAccount) -> None:
    """Suspend an account: it can no longer send or endorse transactions."""
    record = _account_for_admin(ctx, args.id)
    if args.id == ctx.sender.id:
        raise ModuleError("registry.cannot_suspend_self", where="args.id", got=args.id,
                          expected="another account than the sender")
    if record.suspended:
        raise ModuleError("registry.already_suspended", where="args.id", got=args.id, expected="an active account")
    ctx.save(account_key(args.id), msgspec.structs.replace(record, suspended=True))
    ctx.emit(NAME, "account_suspended", args.id, reason=args.reason)


def apply_reinstate_account(ctx: Context, args: ReinstateAccount) -> None:
    """Reinstate a suspended account."""
    record = _account_for_admin(ctx, args.id)
    if not record.suspended:
        raise ModuleError("registry.not_suspended", where="args.id", got=args.id, expected="a suspended account")
    ctx.save(account_key(args.id), msgspec.structs.replace(record, suspended=False))
    ctx.emit(NAME, "account_reinstated", args.id)


def _account_for_admin(ctx: Context, account: str) -> AccountRecord:
    record = load_account(ctx.state, account)
    if record is None:
        raise ModuleError("registry.unknown_account", where="args.id", got=account, expected="a registered account")
    _require_admin_of(ctx, record.organisation)
    return record


def _require_admin_of(ctx: Context, organisation: str) -> None:
    if ctx.sender.organisation != organisation or not ctx.sender.has_role(ADMIN):
        raise ModuleError("registry.not_admin", where="sender", got=ctx.sender.id,
                          expected=f"an admin of organisation {organisation}")


MODULE = Module.of(NAME, [
    Action("add_account", AddAccount, apply_add_account, "Add an account to the sender's organisation."),
    Action("suspend_account", SuspendAccount, apply_suspend_account, "Suspend an account of the sender's organisation."),
    Action("reinstate_account", ReinstateAccount, apply_reinstate_account, "Reinstate a suspended account."),
])
