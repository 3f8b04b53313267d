"""The registry: organisations (departments), their accounts and roles.

Genesis names the organisations and their first accounts. An organisation's admins add accounts to it,
suspend them and reinstate them; an account's key is rotated by the account itself or by an admin of its
organisation. Who may do what is declared as data (`Policy`, modules/policy.py), checked by execution after
the account named is read and before the action runs; the refusals keep this module's codes
(`registry.not_admin`, `registry.rotation_not_permitted`). Every change emits an event keyed by the account
id, so an account's history is its events.
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
from civichain.modules.policy import Facts, Member, Party, Policy, Subjects, either
from civichain.types import ACCOUNT_PATTERN
from civichain.types.genesis import AppGenesis

NAME = "registry"
Role = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
AccountName = Annotated[str, msgspec.Meta(pattern=ACCOUNT_PATTERN, max_length=127)]
ADMIN = "admin"
# The codes this module's actions give, in their ABCI numbering order (200, 201, ...): append only.
ERROR_CODES = (
    "registry.not_admin", "registry.bad_account_id", "registry.account_exists", "registry.unknown_account",
    "registry.cannot_suspend_self", "registry.already_suspended", "registry.not_suspended",
    "registry.rotation_not_permitted", "registry.same_key",
)
# Who may: an admin adds accounts to its own organisation (the one the new account joins) and manages the
# accounts of its organisation; an account's key is rotated by the account itself or by such an admin.
OWN_ADMIN = Policy(performer=Party(role=ADMIN), refusal="registry.not_admin")
ACCOUNT_ADMIN = Policy(performer=Member(role=ADMIN), refusal="registry.not_admin")
ACCOUNT_OR_ADMIN = Policy(performer=either(Subjects(), Member(role=ADMIN)), refusal="registry.rotation_not_permitted")


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


def account_facts(state: StateView, args: SuspendAccount | ReinstateAccount | RotateKey) -> Facts:
    """The account named (the subject) and its organisation. Raises `registry.unknown_account`."""
    record = _existing_account(state, args.id)
    return Facts(subjects=frozenset([record.id]), organisation=record.organisation)


def apply_add_account(ctx: Context, args: AddAccount) -> None:
    """Add an account to the sender's organisation (its admins only: `OWN_ADMIN`).

    Raises registry.bad_account_id, registry.account_exists.
    """
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
    """Suspend an account: it can no longer send or endorse transactions (its organisation's admins only).

    Raises registry.cannot_suspend_self, registry.already_suspended.
    """
    record = _existing_account(ctx.state, args.id)
    if args.id == ctx.sender.id:
        raise ModuleError("registry.cannot_suspend_self", where="args.id", got=args.id,
                          expected="another account than the sender")
    if record.suspended:
        raise ModuleError("registry.already_suspended", where="args.id", got=args.id, expected="an active account")
    ctx.save(account_key(args.id), msgspec.structs.replace(record, suspended=True))
    ctx.emit(NAME, "account_suspended", args.id, reason=args.reason)


def apply_reinstate_account(ctx: Context, args: ReinstateAccount) -> None:
    """Reinstate a suspended account (its organisation's admins only). Raises registry.not_suspended."""
    record = _existing_account(ctx.state, args.id)
    if not record.suspended:
        raise ModuleError("registry.not_suspended", where="args.id", got=args.id, expected="a suspended account")
    ctx.save(account_key(args.id), msgspec.structs.replace(record, suspended=False))
    ctx.emit(NAME, "account_reinstated", args.id)


def apply_rotate_key(ctx: Context, args: RotateKey) -> None:
    """Give an account a new public key (the account itself or an admin of its organisation: `ACCOUNT_OR_ADMIN`).

    Transactions signed with the old key no longer pass admission once this one is committed. Raises
    registry.same_key.
    """
    record = _existing_account(ctx.state, args.id)
    if args.public_key == record.public_key:
        raise ModuleError("registry.same_key", where="args.public_key", got=args.public_key.hex(),
                          expected="a key other than the account's current one")
    ctx.save(account_key(args.id), msgspec.structs.replace(record, public_key=args.public_key))
    ctx.emit(NAME, "key_rotated", args.id, previous_key=record.public_key, public_key=args.public_key,
             by=ctx.sender.id)


def _existing_account(state: StateView, account: str) -> AccountRecord:
    record = load_account(state, account)
    if record is None:
        raise ModuleError("registry.unknown_account", where="args.id", got=account, expected="a registered account")
    return record


MODULE = Module.of(NAME, init_genesis=apply_genesis, actions=[
    Action("add_account", AddAccount, apply_add_account, "Add an account to the sender's organisation.",
           policy=OWN_ADMIN),
    Action("suspend_account", SuspendAccount, apply_suspend_account, "Suspend an account of the sender's organisation.",
           policy=ACCOUNT_ADMIN, subjects=account_facts),
    Action("reinstate_account", ReinstateAccount, apply_reinstate_account, "Reinstate a suspended account.",
           policy=ACCOUNT_ADMIN, subjects=account_facts),
    Action("rotate_key", RotateKey, apply_rotate_key, "Give an account a new key (the account or its admins).",
           policy=ACCOUNT_OR_ADMIN, subjects=account_facts),
])

__all__ = ["MODULE", "AccountRecord", "Organisation", "account_key", "load_account", "organisation_key"]
