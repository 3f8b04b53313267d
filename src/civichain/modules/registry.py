"""The registry: organisations (departments), their accounts and roles.

Genesis names the organisations and their first accounts. An organisation's admins add accounts to it,
suspend them and reinstate them; an account's key is rotated by the account itself or by an admin of its
organisation. Every change emits an event keyed by the account id, so an account's history is its events.
Execution reads account records (kept in `membership`, with the organisations) to check signatures and to
know who a sender is; governance adds and suspends organisations.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.codec import encode
from civichain.modules.base import Action, Args, Context, Module, ModuleError, StateView
from civichain.modules.membership import (
    AccountRecord,
    Organisation,
    account_key,
    load_account,
    organisation_key,
    save_organisation,
)
from civichain.types import ACCOUNT_PATTERN
from civichain.types.genesis import AppGenesis

NAME = "registry"
Role = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
AccountName = Annotated[str, msgspec.Meta(pattern=ACCOUNT_PATTERN, max_length=127)]
ADMIN = "admin"


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


class RotateKey(Args, kw_only=True):
    """Arguments of `registry.rotate_key`."""

    id: AccountName
    public_key: Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]


def apply_genesis(state: StateView, genesis: AppGenesis) -> None:
    """Write the genesis organisations and accounts.

    Raises `genesis.duplicate_organisation`, `genesis.duplicate_account` or `genesis.unknown_organisation`
    (an account of an organisation the genesis does not name).
    """
    organisations = set()
    for org in genesis.organisations:
        if org.id in organisations:
            raise ModuleError("genesis.duplicate_organisation", where="app_state.organisations", got=org.id,
                              expected="each organisation once")
        organisations.add(org.id)
        save_organisation(state, Organisation(org.id, org.name_zh, org.name_en), new=True)
    for acc in genesis.accounts:
        if acc.organisation not in organisations:
            raise ModuleError("genesis.unknown_organisation", where=f"app_state.accounts {acc.id}",
                              got=acc.organisation, expected="an organisation of the genesis")
        if state.get(account_key(acc.id)) is not None:
            raise ModuleError("genesis.duplicate_account", where="app_state.accounts", got=acc.id,
                              expected="each account once")
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


def apply_rotate_key(ctx: Context, args: RotateKey) -> None:
    """Give an account a new public key. The account itself or an admin of its organisation may.

    Transactions signed with the old key no longer pass admission once this one is committed. Raises
    registry.unknown_account, registry.rotation_not_permitted, registry.same_key.
    """
    record = load_account(ctx.state, args.id)
    if record is None:
        raise ModuleError("registry.unknown_account", where="args.id", got=args.id, expected="a registered account")
    own = ctx.sender.id == args.id
    if not own and (ctx.sender.organisation != record.organisation or not ctx.sender.has_role(ADMIN)):
        raise ModuleError("registry.rotation_not_permitted", where="sender", got=ctx.sender.id,
                          expected=f"{args.id} itself or an admin of organisation {record.organisation}")
    if args.public_key == record.public_key:
        raise ModuleError("registry.same_key", where="args.public_key", got=args.public_key.hex(),
                          expected="a key other than the account's current one")
    ctx.save(account_key(args.id), msgspec.structs.replace(record, public_key=args.public_key))
    ctx.emit(NAME, "key_rotated", args.id, previous_key=record.public_key, public_key=args.public_key,
             by=ctx.sender.id)


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


MODULE = Module.of(NAME, init_genesis=apply_genesis, actions=[
    Action("add_account", AddAccount, apply_add_account, "Add an account to the sender's organisation."),
    Action("suspend_account", SuspendAccount, apply_suspend_account, "Suspend an account of the sender's organisation."),
    Action("reinstate_account", ReinstateAccount, apply_reinstate_account, "Reinstate a suspended account."),
    Action("rotate_key", RotateKey, apply_rotate_key, "Give an account a new key (the account or its admins)."),
])


__all__ = ["MODULE", "AccountRecord", "Organisation", "account_key", "load_account", "organisation_key"]
