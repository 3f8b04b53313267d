"""Governance: organisations propose changes to the network, vote on them, and passed proposals execute.

An admin of an active organisation proposes a change of one *kind* (add or suspend an organisation; add,
remove or re-weight a validator; admit or remove an observer node; change a parameter). Proposing is also
the proposing organisation's approval. Each organisation of the proposal's *electorate* (the organisations
active when it was made) votes once, through any of its admins; votes are final. The proposal passes as soon
as `approvals × denominator ≥ numerator × electorate` (the threshold is also fixed when it is made), is
rejected as soon as it can no longer pass, and expires at the end of its expiry height if neither happened.

A passed proposal executes at the end of block `max(height it passed, execute_at)`, in this module's
end-of-block hook, after the block's transactions: exactly once, and every effect or none (a change that is
no longer possible, say removing the last validator, makes the proposal `failed` with the change's code).
Each execution and expiry is reported in a block receipt, hashed into the block's receipts root.

State keys:

```
governance/params                 GovernanceParams
governance/next_proposal          the next proposal id (absent: 1)
governance/proposal/<id, 20 digits>   Proposal
governance/agenda/<height, 20 digits> ids of the proposals to execute or expire at the end of that block
```

and the membership records (`membership`): organisations, validators, admitted nodes. See
docs/modules/governance.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Callable

import msgspec

from civichain.codec import CodecError, decode, encode
from civichain.modules import membership
from civichain.modules.base import Action, Args, Context, HookContext, Module, ModuleError, StateView
from civichain.modules.policy import Party, Policy
from civichain.types.genesis import AppGenesis

NAME = "governance"
ADMIN = "admin"
OPEN, PASSED, REJECTED, EXPIRED, EXECUTED, FAILED = "open", "passed", "rejected", "expired", "executed", "failed"
MIN_LIFETIME, MAX_LIFETIME = 10, 10_000_000
PARAMS_KEY = b"governance/params"
NEXT_ID_KEY = b"governance/next_proposal"
PROPOSAL_PREFIX = b"governance/proposal/"
AGENDA_PREFIX = b"governance/agenda/"
KindName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z_]{0,31}$")]
# The codes this module's actions and proposals give (the `governance.*` codes of membership.py included), in
# their ABCI numbering order (400, 401, ...): append only.
ERROR_CODES = (
    "governance.not_admin", "governance.unknown_kind", "governance.bad_payload", "governance.bad_expiry",
    "governance.bad_execution_height", "governance.unknown_proposal", "governance.proposal_expired",
    "governance.proposal_closed", "governance.not_eligible", "governance.already_voted",
    "governance.organisation_exists", "governance.bad_account_id", "governance.account_exists",
    "governance.unknown_organisation", "governance.already_suspended", "governance.not_suspended",
    "governance.no_organisation_left", "governance.organisation_suspended", "governance.duplicate_validator",
    "governance.unknown_validator", "governance.no_validator_left", "governance.duplicate_node",
    "governance.unknown_observer", "governance.unknown_param", "governance.bad_param",
)
# Admins speak for their organisation (a suspended organisation's accounts are refused at admission).
BY_ADMIN = Policy(performer=Party(role=ADMIN), refusal="governance.not_admin")


class GovernanceParams(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The rules of governance in force: the passing threshold and how long a proposal may stay open."""

    threshold_numerator: int
    threshold_denominator: int
    proposal_lifetime: int


class Ballot(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """One organisation's vote, cast by one of its admins."""

    organisation: str
    account: str
    approve: bool
    height: int


class Proposal(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A proposal as the chain keeps it. `execute_at` 0 means "as soon as it passes"."""

    id: int
    kind: str
    payload: bytes                    # the canonical encoding of the kind's payload
    title: str
    proposer: str
    organisation: str
    created_at: int
    expires_at: int
    execute_at: int
    threshold_numerator: int
    threshold_denominator: int
    electorate: tuple[str, ...]       # the organisations active when it was made, sorted
    ballots: tuple[Ballot, ...]       # sorted by organisation
    status: str = OPEN
    decided_at: int = 0               # height it passed, was rejected or expired
    executed_at: int = 0              # height it executed or failed
    outcome: str = ""                 # "ok" or the code that made its execution fail

    def approvals(self) -> int:
        """Return how many organisations approved."""
        return sum(1 for b in self.ballots if b.approve)

    def rejections(self) -> int:
        """Return how many organisations rejected."""
        return sum(1 for b in self.ballots if not b.approve)

    def due(self) -> int:
        """Return the height at whose end a passed proposal executes."""
        return max(self.decided_at, self.execute_at)


class Propose(Args, kw_only=True):
    """Arguments of `governance.propose`. `expires_at` 0: at the proposal lifetime; `execute_at` 0: once passed."""

    execute_at: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] = 0
    expires_at: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] = 0
    kind: KindName
    payload: msgspec.Raw
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Vote(Args, kw_only=True):
    """Arguments of `governance.vote`."""

    approve: bool
    proposal: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class ChangeParam(Args, kw_only=True):
    """Payload of a proposal to change a parameter: `governance_threshold` ("2/3") or `proposal_lifetime` ("5000")."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z_]{0,63}$")]
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of proposal: the schema of its payload and the change it makes (checking before writing)."""

    schema: type[msgspec.Struct]
    apply: Callable[[HookContext, msgspec.Struct], None]

    def __post_init__(self) -> None:
        fields = list(self.schema.__struct_fields__)
        if fields != sorted(fields) or self.schema.__struct_config__.array_like:
            raise TypeError(f"{self.schema.__name__}: payload fields must be declared in sorted order, as a map")


def params_of(state: StateView) -> GovernanceParams:
    """Return the governance parameters in force."""
    raw = state.get(PARAMS_KEY)
    assert raw is not None, "the genesis writes the governance parameters"
    return decode(raw, GovernanceParams, where="governance parameters")


def proposal_key(proposal: int) -> bytes:
    """Return the state key of a proposal (ids zero-padded, so key order is id order)."""
    return PROPOSAL_PREFIX + b"%020d" % proposal


def load_proposal(state: StateView, proposal: int) -> Proposal | None:
    """Return a proposal, or None."""
    raw = state.get(proposal_key(proposal))
    return None if raw is None else decode(raw, Proposal, where=f"proposal {proposal}")


# --- genesis ----------------------------------------------------------------------------------------------

def apply_genesis(state: StateView, genesis: AppGenesis) -> None:
    """Write the governance parameters, the validators and the admitted nodes of the genesis.

    Raises `genesis.bad_threshold`, `genesis.unknown_organisation` (a validator's), `genesis.duplicate_validator`
    or `genesis.duplicate_node`.
    """
    threshold = genesis.params.governance_threshold
    _check_threshold(threshold.numerator, threshold.denominator, "genesis.bad_threshold",
                     "app_state.params.governance_threshold")
    state.set(PARAMS_KEY, encode(GovernanceParams(threshold.numerator, threshold.denominator,
                                                  genesis.params.proposal_lifetime)))
    organisations = {org.id for org in genesis.organisations}
    validators: dict[bytes, membership.Validator] = {}
    nodes: set[str] = set()
    for v in genesis.validators:
        where = f"app_state.validators {v.pub_key}"
        if v.organisation not in organisations:
            raise ModuleError("genesis.unknown_organisation", where=where, got=v.organisation,
                              expected="an organisation of the genesis")
        if bytes.fromhex(v.pub_key) in validators:
            raise ModuleError("genesis.duplicate_validator", where=where, got=v.pub_key, expected="each key once")
        _claim_genesis_node(nodes, v.node_id, where)
        validators[bytes.fromhex(v.pub_key)] = membership.Validator(bytes.fromhex(v.pub_key), v.power, v.organisation,
                                                                   v.node_id)
        state.set(membership.node_key(v.node_id), encode(membership.NodeRecord(v.node_id, membership.VALIDATOR,
                                                                               v.organisation)))
    if validators:
        membership.save_validators(state, list(validators.values()))
    for o in genesis.observers:
        _claim_genesis_node(nodes, o.node_id, f"app_state.observers {o.node_id}")
        state.set(membership.node_key(o.node_id), encode(membership.NodeRecord(o.node_id, membership.OBSERVER,
                                                                               o.operator)))


def _claim_genesis_node(nodes: set[str], node_id: str, where: str) -> None:
    if node_id in nodes:
        raise ModuleError("genesis.duplicate_node", where=where, got=node_id, expected="each node id once")
    nodes.add(node_id)


# --- actions ----------------------------------------------------------------------------------------------

def apply_propose(ctx: Context, args: Propose) -> None:
    """Make a proposal, approved by the sender's organisation. Only admins of an active organisation may."""
    kind = _kind(args.kind)
    payload = _decode_payload(kind, args.kind, bytes(args.payload))
    params, height = params_of(ctx.state), ctx.block.height
    expires_at = args.expires_at or height + params.proposal_lifetime
    if not height < expires_at <= height + params.proposal_lifetime:
        raise ModuleError("governance.bad_expiry", where="args.expires_at", got=args.expires_at,
                          expected=f"0, or a height from {height + 1} to {height + params.proposal_lifetime}")
    if args.execute_at and not height < args.execute_at <= expires_at:
        raise ModuleError("governance.bad_execution_height", where="args.execute_at", got=args.execute_at,
                          expected=f"0, or a height from {height + 1} to the expiry height {expires_at}")
    _dry_run(ctx, kind, payload)
    number = _next_id(ctx.state)
    ballot = Ballot(ctx.sender.organisation, ctx.sender.id, True, height)
    proposal = Proposal(number, args.kind, bytes(args.payload), args.title, ctx.sender.id, ctx.sender.organisation,
                        height, expires_at, args.execute_at, params.threshold_numerator, params.threshold_denominator,
                        membership.active_organisations(ctx.state), (ballot,))
    ctx.emit(NAME, "proposed", str(number), kind=args.kind, proposer=ctx.sender.id, expires_at=expires_at,
             execute_at=args.execute_at, title=args.title)
    _schedule(ctx.state, expires_at, number)
    _tally(ctx, proposal)


def apply_vote(ctx: Context, args: Vote) -> None:
    """Cast the sender's organisation's vote. Only its admins may, once per organisation, before expiry."""
    proposal = load_proposal(ctx.state, args.proposal)
    if proposal is None:
        raise ModuleError("governance.unknown_proposal", where="args.proposal", got=args.proposal,
                          expected="the id of a proposal")
    height, organisation = ctx.block.height, ctx.sender.organisation
    if proposal.status == EXPIRED or (proposal.status == OPEN and height > proposal.expires_at):
        raise ModuleError("governance.proposal_expired", where="args.proposal", got=f"expired at {proposal.expires_at}",
                          expected="a proposal open for votes")
    if proposal.status != OPEN:
        raise ModuleError("governance.proposal_closed", where="args.proposal", got=proposal.status,
                          expected="a proposal open for votes")
    if organisation not in proposal.electorate:
        raise ModuleError("governance.not_eligible", where="sender", got=organisation,
                          expected=f"an organisation of the proposal's electorate {list(proposal.electorate)}")
    if any(b.organisation == organisation for b in proposal.ballots):
        raise ModuleError("governance.already_voted", where="sender", got=organisation,
                          expected="an organisation that has not voted on this proposal (votes are final)")
    ballots = sorted((*proposal.ballots, Ballot(organisation, ctx.sender.id, args.approve, height)),
                     key=lambda b: b.organisation)
    proposal = msgspec.structs.replace(proposal, ballots=tuple(ballots))
    ctx.emit(NAME, "voted", str(proposal.id), organisation=organisation, account=ctx.sender.id,
             approve=str(args.approve).lower(), approvals=proposal.approvals(), rejections=proposal.rejections())
    _tally(ctx, proposal)


def _tally(ctx: Context, proposal: Proposal) -> None:
    """Decide an open proposal once its ballots allow, schedule a passed one, and store it."""
    height, size = ctx.block.height, len(proposal.electorate)
    needed = proposal.threshold_numerator * size
    if proposal.approvals() * proposal.threshold_denominator >= needed:
        proposal = msgspec.structs.replace(proposal, status=PASSED, decided_at=height)
        _schedule(ctx.state, proposal.due(), proposal.id)
        ctx.emit(NAME, "passed", str(proposal.id), approvals=proposal.approvals(), executes_at=proposal.due())
    elif (size - proposal.rejections()) * proposal.threshold_denominator < needed:
        proposal = msgspec.structs.replace(proposal, status=REJECTED, decided_at=height)
        ctx.emit(NAME, "rejected", str(proposal.id), approvals=proposal.approvals(), rejections=proposal.rejections())
    ctx.save(proposal_key(proposal.id), proposal)


# --- end of block: execute what is due, expire what ran out -----------------------------------------------

def end_block(ctx: HookContext) -> None:
    """Execute the proposals due at this height and expire those whose last height this is, in id order."""
    height = ctx.block.height
    key = _agenda_key(height)
    raw = ctx.state.get(key)
    if raw is None:
        return
    ctx.state.delete(key)
    for number in decode(raw, tuple[int, ...], where=f"agenda of height {height}"):
        proposal = load_proposal(ctx.state, number)
        if proposal.status == PASSED and proposal.due() == height:
            _execute(ctx, proposal)
        elif proposal.status == OPEN and proposal.expires_at == height:
            ctx.save(proposal_key(number), msgspec.structs.replace(proposal, status=EXPIRED, decided_at=height))
            ctx.emit(NAME, "expired", str(number), approvals=proposal.approvals(), rejections=proposal.rejections())
            ctx.report(f"governance proposal {number}")


def _execute(ctx: HookContext, proposal: Proposal) -> None:
    kind = KINDS[proposal.kind]
    payload = decode(proposal.payload, kind.schema, where=f"proposal {proposal.id} payload")
    scratch = _Scratch(ctx.state)
    effects = HookContext(scratch, ctx.block)
    task, height = f"governance proposal {proposal.id}", ctx.block.height
    try:
        kind.apply(effects, payload)
    except ModuleError as exc:
        ctx.save(proposal_key(proposal.id), msgspec.structs.replace(proposal, status=FAILED, executed_at=height,
                                                                    outcome=exc.code))
        ctx.emit(NAME, "execution_failed", str(proposal.id), kind=proposal.kind, code=exc.code)
        ctx.report(task, exc)
        return
    scratch.apply()
    ctx.events.extend(effects.events)
    ctx.save(proposal_key(proposal.id), msgspec.structs.replace(proposal, status=EXECUTED, executed_at=height,
                                                                outcome="ok"))
    ctx.emit(NAME, "executed", str(proposal.id), kind=proposal.kind)
    ctx.report(task)


# --- changing parameters ----------------------------------------------------------------------------------

def apply_change_param(ctx: HookContext, p: ChangeParam) -> None:
    """Change `governance_threshold` (a fraction "n/d", more than one half, at most one) or `proposal_lifetime`."""
    params = params_of(ctx.state)
    if p.name == "governance_threshold":
        numerator, _, denominator = p.value.partition("/")
        num, den = _parse_count(numerator, p.value), _parse_count(denominator, p.value)
        _check_threshold(num, den, "governance.bad_param", "payload.value")
        changed = msgspec.structs.replace(params, threshold_numerator=num, threshold_denominator=den)
    elif p.name == "proposal_lifetime":
        lifetime = _parse_count(p.value, p.value)
        if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
            raise ModuleError("governance.bad_param", where="payload.value", got=p.value,
                              expected=f"a number of blocks from {MIN_LIFETIME} to {MAX_LIFETIME}")
        changed = msgspec.structs.replace(params, proposal_lifetime=lifetime)
    else:
        raise ModuleError("governance.unknown_param", where="payload.name", got=p.name,
                          expected="governance_threshold or proposal_lifetime")
    ctx.save(PARAMS_KEY, changed)
    ctx.emit(NAME, "param_changed", p.name, value=p.value)


def _parse_count(text: str, value: str) -> int:
    # One text form per number (no sign, no leading zero), so equal values have equal payloads.
    if not text.isascii() or not text.isdigit() or text.startswith("0") or len(text) > 9:
        raise ModuleError("governance.bad_param", where="payload.value", got=value,
                          expected="a positive whole number, or a fraction n/d of two, written without leading zeros")
    return int(text)


def _check_threshold(numerator: int, denominator: int, code: str, where: str) -> None:
    if not (denominator < 2 * numerator and numerator <= denominator <= 1000):
        raise ModuleError(code, where=where, got=f"{numerator}/{denominator}",
                          expected="a fraction n/d with d/2 < n <= d <= 1000 (more than half, at most all)")


KINDS: dict[str, Kind] = {
    "add_organisation": Kind(membership.AddOrganisation, membership.apply_add_organisation),
    "suspend_organisation": Kind(membership.SuspendOrganisation, membership.apply_suspend_organisation),
    "reinstate_organisation": Kind(membership.ReinstateOrganisation, membership.apply_reinstate_organisation),
    "add_validator": Kind(membership.AddValidator, membership.apply_add_validator),
    "remove_validator": Kind(membership.RemoveValidator, membership.apply_remove_validator),
    "set_validator_power": Kind(membership.SetValidatorPower, membership.apply_set_validator_power),
    "admit_observer": Kind(membership.AdmitObserver, membership.apply_admit_observer),
    "remove_observer": Kind(membership.RemoveObserver, membership.apply_remove_observer),
    "change_param": Kind(ChangeParam, apply_change_param),
}


# --- helpers ----------------------------------------------------------------------------------------------

def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise ModuleError("governance.unknown_kind", where="args.kind", got=name, expected=f"one of {sorted(KINDS)}")
    return kind


def _decode_payload(kind: Kind, name: str, payload: bytes) -> msgspec.Struct:
    try:
        return decode(payload, kind.schema, where="args.payload")
    except CodecError as exc:
        raise ModuleError("governance.bad_payload", where=f"args.payload ({name})", got=exc.got,
                          expected=f"{exc.expected}: the {name} payload {list(kind.schema.__struct_fields__)}") from None


def _dry_run(ctx: Context, kind: Kind, payload: msgspec.Struct) -> None:
    """Refuse now a change that could not execute on the current state (it is checked again when it executes)."""
    kind.apply(HookContext(_Scratch(ctx.state), ctx.block), payload)


def _next_id(state: StateView) -> int:
    raw = state.get(NEXT_ID_KEY)
    number = 1 if raw is None else decode(raw, int, where="next proposal id")
    state.set(NEXT_ID_KEY, encode(number + 1))
    return number


def _agenda_key(height: int) -> bytes:
    return AGENDA_PREFIX + b"%020d" % height


def _schedule(state: StateView, height: int, proposal: int) -> None:
    key = _agenda_key(height)
    raw = state.get(key)
    due = () if raw is None else decode(raw, tuple[int, ...], where=f"agenda of height {height}")
    if proposal not in due:
        state.set(key, encode(tuple(sorted((*due, proposal)))))


class _Scratch:
    """Writes held back over a state view until `apply`: a change takes effect whole or not at all."""

    __slots__ = ("_base", "_writes")

    def __init__(self, base: StateView) -> None:
        self._base, self._writes = base, {}

    def get(self, key: bytes) -> bytes | None:
        return self._writes[key] if key in self._writes else self._base.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self._writes[key] = bytes(value)

    def delete(self, key: bytes) -> None:
        self._writes[key] = None

    def apply(self) -> None:
        """Write the held-back changes into the base view, in the order they were made."""
        for key, value in self._writes.items():
            if value is None:
                self._base.delete(key)
            else:
                self._base.set(key, value)


MODULE = Module.of(NAME, init_genesis=apply_genesis, end_block=end_block, actions=[
    Action("propose", Propose, apply_propose, "Propose a change to the network; the sender's organisation approves it.",
           policy=BY_ADMIN),
    Action("vote", Vote, apply_vote, "Vote on an open proposal for the sender's organisation (once; votes are final).",
           policy=BY_ADMIN),
])
