"""Who is in the network: organisations, their accounts, the validators and the observer nodes.

These records are shared, so they live beside the modules rather than inside one (modules never import each
other): the registry writes organisations and accounts at genesis and manages accounts; governance changes
organisations, validators and observer nodes when a proposal passes (the `apply_*` functions below, each
checking everything before it writes); execution reads accounts and organisations at admission; the ledger's
peer filter reads node records. Nothing here is an action a transaction can call directly.

State keys:

```
registry/org/<id>            Organisation
registry/organisations       every organisation id, sorted
registry/account/<id>        AccountRecord
governance/validators        ValidatorSet: every validator, sorted by public key
governance/node/<node id>    NodeRecord: a node the peer filter admits (a validator's node or an observer)
```
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.codec import decode, encode
from civichain.modules.base import Args, HookContext, ModuleError, StateView
from civichain.types import ACCOUNT_PATTERN
from civichain.types.genesis import NODE_ID_PATTERN, OrgId, Power

EVENTS = "governance"      # membership changes are made by governance and reported under its name
VALIDATOR, OBSERVER = "validator", "observer"
PubKey = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
NodeId = Annotated[str, msgspec.Meta(pattern=NODE_ID_PATTERN)]
AccountName = Annotated[str, msgspec.Meta(pattern=ACCOUNT_PATTERN, max_length=127)]
OrgName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]

ORGANISATIONS_KEY = b"registry/organisations"
VALIDATORS_KEY = b"governance/validators"


# --- records ----------------------------------------------------------------------------------------------

class Organisation(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A department that keeps records on the chain; a suspended one neither transacts nor votes."""

    id: str
    name_zh: str
    name_en: str
    active: bool = True
    since: int = 0           # height it was added (0: genesis) or last suspended or reinstated


class AccountRecord(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """An account: whose it is, its current public key, its roles, and whether it is suspended."""

    id: str
    organisation: str
    public_key: bytes
    roles: tuple[str, ...]
    suspended: bool = False
    created_at: int = 0


class Validator(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A validator: its Ed25519 consensus key, voting power, operating organisation and node id."""

    pub_key: bytes
    power: int
    organisation: str
    node_id: str
    since: int = 0


class ValidatorSet(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Every validator, sorted by public key: the set CometBFT runs (changes take effect two heights later)."""

    validators: tuple[Validator, ...] = ()

    def total_power(self) -> int:
        """Return the sum of the validators' powers."""
        return sum(v.power for v in self.validators)

    def find(self, pub_key: bytes) -> Validator | None:
        """Return the validator with `pub_key`, or None."""
        return next((v for v in self.validators if v.pub_key == pub_key), None)


class NodeRecord(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A node the network admits as a peer: a validator's node (`operator` is its organisation) or an observer."""

    node_id: str
    role: str                # VALIDATOR or OBSERVER
    operator: str
    since: int = 0


def organisation_key(organisation: str) -> bytes:
    """Return the state key of an organisation record."""
    return b"registry/org/" + organisation.encode()


def account_key(account: str) -> bytes:
    """Return the state key of an account record."""
    return b"registry/account/" + account.encode()


def node_key(node_id: str) -> bytes:
    """Return the state key of an admitted node's record."""
    return b"governance/node/" + node_id.encode()


def load_organisation(state: StateView, organisation: str) -> Organisation | None:
    """Return the record of `organisation`, or None."""
    raw = state.get(organisation_key(organisation))
    return None if raw is None else decode(raw, Organisation, where=f"organisation {organisation}")


def load_account(state: StateView, account: str) -> AccountRecord | None:
    """Return the account record of `account`, or None if there is none."""
    raw = state.get(account_key(account))
    return None if raw is None else decode(raw, AccountRecord, where=f"account {account}")


def load_node(state: StateView, node_id: str) -> NodeRecord | None:
    """Return the record of an admitted node, or None."""
    raw = state.get(node_key(node_id))
    return None if raw is None else decode(raw, NodeRecord, where=f"node {node_id}")


def organisation_ids(state: StateView) -> tuple[str, ...]:
    """Return every organisation id, sorted."""
    raw = state.get(ORGANISATIONS_KEY)
    return () if raw is None else decode(raw, tuple[str, ...], where="organisation list")


def active_organisations(state: StateView) -> tuple[str, ...]:
    """Return the ids of the organisations that are not suspended, sorted."""
    return tuple(org for org in organisation_ids(state) if _organisation(state, org).active)


def load_validators(state: StateView) -> ValidatorSet:
    """Return the validator set."""
    raw = state.get(VALIDATORS_KEY)
    return ValidatorSet() if raw is None else decode(raw, ValidatorSet, where="validator set")


def save_validators(state: StateView, validators: list[Validator]) -> None:
    """Store the validator set, sorted by public key."""
    state.set(VALIDATORS_KEY, encode(ValidatorSet(tuple(sorted(validators, key=lambda v: v.pub_key)))))


def save_organisation(state: StateView, record: Organisation, *, new: bool = False) -> None:
    """Store an organisation record; a `new` one joins the sorted organisation list."""
    state.set(organisation_key(record.id), encode(record))
    if new:
        state.set(ORGANISATIONS_KEY, encode(tuple(sorted({*organisation_ids(state), record.id}))))


# --- changes governance makes ---------------------------------------------------------------------------

class AddOrganisation(Args, kw_only=True):
    """Payload of a proposal to add an organisation, with its first admin account."""

    admin_account: AccountName
    admin_public_key: PubKey
    id: OrgId
    name_en: OrgName
    name_zh: OrgName


class SuspendOrganisation(Args, kw_only=True):
    """Payload of a proposal to suspend an organisation: its accounts can then neither transact nor vote."""

    id: OrgId
    reason: Reason


class ReinstateOrganisation(Args, kw_only=True):
    """Payload of a proposal to reinstate a suspended organisation."""

    id: OrgId


class AddValidator(Args, kw_only=True):
    """Payload of a proposal to add a validator, run by `organisation` on the node `node_id`."""

    node_id: NodeId
    organisation: OrgId
    power: Power
    pub_key: PubKey


class RemoveValidator(Args, kw_only=True):
    """Payload of a proposal to remove a validator (its node is no longer admitted as a peer)."""

    pub_key: PubKey


class SetValidatorPower(Args, kw_only=True):
    """Payload of a proposal to change a validator's voting power (to remove it, propose remove_validator)."""

    power: Power
    pub_key: PubKey


class AdmitObserver(Args, kw_only=True):
    """Payload of a proposal to admit a non-validating node as a peer."""

    node_id: NodeId
    operator: OrgName


class RemoveObserver(Args, kw_only=True):
    """Payload of a proposal to stop admitting an observer node."""

    node_id: NodeId


def apply_add_organisation(ctx: HookContext, p: AddOrganisation) -> None:
    """Add an active organisation and its first admin account."""
    if ctx.state.get(organisation_key(p.id)) is not None:
        raise ModuleError("governance.organisation_exists", where="payload.id", got=p.id, expected="a new organisation id")
    if not p.admin_account.startswith(p.id + "/"):
        raise ModuleError("governance.bad_account_id", where="payload.admin_account", got=p.admin_account,
                          expected=f"an id of the form {p.id}/<name>")
    if ctx.state.get(account_key(p.admin_account)) is not None:
        raise ModuleError("governance.account_exists", where="payload.admin_account", got=p.admin_account,
                          expected="a new account id")
    height = ctx.block.height
    save_organisation(ctx.state, Organisation(p.id, p.name_zh, p.name_en, since=height), new=True)
    ctx.save(account_key(p.admin_account), AccountRecord(p.admin_account, p.id, p.admin_public_key, ("admin",),
                                                         created_at=height))
    ctx.emit(EVENTS, "organisation_added", p.id, name_en=p.name_en, name_zh=p.name_zh, admin=p.admin_account)


def apply_suspend_organisation(ctx: HookContext, p: SuspendOrganisation) -> None:
    """Suspend an organisation. Never the last active one: someone must remain to govern."""
    record = _existing_organisation(ctx.state, p.id)
    if not record.active:
        raise ModuleError("governance.already_suspended", where="payload.id", got=p.id, expected="an active organisation")
    if active_organisations(ctx.state) == (p.id,):
        raise ModuleError("governance.no_organisation_left", where="payload.id", got=p.id,
                          expected="another active organisation to remain")
    save_organisation(ctx.state, msgspec.structs.replace(record, active=False, since=ctx.block.height))
    ctx.emit(EVENTS, "organisation_suspended", p.id, reason=p.reason)


def apply_reinstate_organisation(ctx: HookContext, p: ReinstateOrganisation) -> None:
    """Reinstate a suspended organisation."""
    record = _existing_organisation(ctx.state, p.id)
    if record.active:
        raise ModuleError("governance.not_suspended", where="payload.id", got=p.id, expected="a suspended organisation")
    save_organisation(ctx.state, msgspec.structs.replace(record, active=True, since=ctx.block.height))
    ctx.emit(EVENTS, "organisation_reinstated", p.id)


def apply_add_validator(ctx: HookContext, p: AddValidator) -> None:
    """Add a validator with a new key on a node id no other validator or observer uses."""
    record = _existing_organisation(ctx.state, p.organisation, where="payload.organisation")
    if not record.active:
        raise ModuleError("governance.organisation_suspended", where="payload.organisation", got=p.organisation,
                          expected="an active organisation to run the validator")
    validators = load_validators(ctx.state)
    if validators.find(p.pub_key) is not None:
        raise ModuleError("governance.duplicate_validator", where="payload.pub_key", got=p.pub_key.hex(),
                          expected="a key that is not already a validator's")
    _check_node_free(ctx.state, p.node_id)
    added = Validator(p.pub_key, p.power, p.organisation, p.node_id, since=ctx.block.height)
    save_validators(ctx.state, [*validators.validators, added])
    ctx.save(node_key(p.node_id), NodeRecord(p.node_id, VALIDATOR, p.organisation, since=ctx.block.height))
    ctx.emit(EVENTS, "validator_added", p.pub_key.hex(), power=p.power, organisation=p.organisation, node_id=p.node_id)


def apply_remove_validator(ctx: HookContext, p: RemoveValidator) -> None:
    """Remove a validator and stop admitting its node. Never the last validator."""
    validators = load_validators(ctx.state)
    removed = _existing_validator(validators, p.pub_key)
    remaining = [v for v in validators.validators if v.pub_key != p.pub_key]
    if not remaining:
        raise ModuleError("governance.no_validator_left", where="payload.pub_key", got=p.pub_key.hex(),
                          expected="at least one validator to remain")
    save_validators(ctx.state, remaining)
    ctx.state.delete(node_key(removed.node_id))
    ctx.emit(EVENTS, "validator_removed", p.pub_key.hex(), organisation=removed.organisation, node_id=removed.node_id)


def apply_set_validator_power(ctx: HookContext, p: SetValidatorPower) -> None:
    """Change a validator's voting power (at least 1, so the set never empties)."""
    validators = load_validators(ctx.state)
    before = _existing_validator(validators, p.pub_key)
    changed = msgspec.structs.replace(before, power=p.power)
    save_validators(ctx.state, [changed if v.pub_key == p.pub_key else v for v in validators.validators])
    ctx.emit(EVENTS, "validator_power_changed", p.pub_key.hex(), before=before.power, power=p.power)


def apply_admit_observer(ctx: HookContext, p: AdmitObserver) -> None:
    """Admit an observer node as a peer."""
    _check_node_free(ctx.state, p.node_id)
    ctx.save(node_key(p.node_id), NodeRecord(p.node_id, OBSERVER, p.operator, since=ctx.block.height))
    ctx.emit(EVENTS, "observer_admitted", p.node_id, operator=p.operator)


def apply_remove_observer(ctx: HookContext, p: RemoveObserver) -> None:
    """Stop admitting an observer node."""
    node = load_node(ctx.state, p.node_id)
    if node is None or node.role != OBSERVER:
        raise ModuleError("governance.unknown_observer", where="payload.node_id", got=p.node_id,
                          expected="the node id of an admitted observer")
    ctx.state.delete(node_key(p.node_id))
    ctx.emit(EVENTS, "observer_removed", p.node_id, operator=node.operator)


def _organisation(state: StateView, organisation: str) -> Organisation:
    record = load_organisation(state, organisation)
    assert record is not None, f"organisation {organisation} is listed but has no record"
    return record


def _existing_organisation(state: StateView, organisation: str, where: str = "payload.id") -> Organisation:
    record = load_organisation(state, organisation)
    if record is None:
        raise ModuleError("governance.unknown_organisation", where=where, got=organisation,
                          expected="a registered organisation")
    return record


def _existing_validator(validators: ValidatorSet, pub_key: bytes) -> Validator:
    found = validators.find(pub_key)
    if found is None:
        raise ModuleError("governance.unknown_validator", where="payload.pub_key", got=pub_key.hex(),
                          expected="the public key of a current validator")
    return found


def _check_node_free(state: StateView, node_id: str) -> None:
    node = load_node(state, node_id)
    if node is not None:
        raise ModuleError("governance.duplicate_node", where="payload.node_id", got=node_id,
                          expected=f"a node id not already admitted (it is a {node.role} node of {node.operator})")

