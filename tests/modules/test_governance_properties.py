"""Governance invariants over random sequences of proposals, votes and empty blocks (hypothesis state machine).

A small reference model (plain dicts, written from the rules in docs/modules/governance.md, not from the
code) predicts every receipt code, every proposal's status and the validator set after every block; the
machine checks the chain against it and checks the invariants directly:

* a proposal passes iff approvals × d ≥ n × electorate before its expiry; it expires iff it did not;
* a passed proposal executes (or fails) exactly once, at the end of block max(height it passed, execute_at);
* the validator set is never empty, and its power changes only in a block where a proposal executed, by
  exactly the validator updates returned to CometBFT.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings, strategies as st
from hypothesis import event
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from civichain.modules.governance import EXECUTED, EXPIRED, FAILED, OPEN, PASSED, REJECTED
from civichain.modules.membership import AddValidator, RemoveValidator, SetValidatorPower
from civichain.types import ValidatorUpdate
from tests.modules.govsupport import GovChain, node_id, validator_key

ORGS = 3
LIFETIME = 12
KEYS = [validator_key(f"v{i}") for i in range(5)]          # v0..v2 at genesis, v3 and v4 may be added
NODES = {key: node_id(f"v{i}") for i, key in enumerate(KEYS)}
THRESHOLDS = [(2, 3), (3, 4), (1, 1), (3, 5)]


@dataclass
class ModelProposal:
    kind: str
    key: bytes
    power: int
    created: int
    expires_at: int
    execute_at: int
    threshold: tuple[int, int]
    votes: dict[str, bool] = field(default_factory=dict)
    status: str = OPEN
    decided: int = 0


action = st.one_of(
    st.tuples(st.just("propose"), st.integers(0, ORGS - 1), st.sampled_from(["add", "remove", "power"]),
              st.sampled_from(KEYS), st.integers(1, 40), st.integers(0, LIFETIME), st.integers(0, LIFETIME)),
    # the proposal voted on: an index into the proposals made so far, or (sometimes) one not made yet
    st.tuples(st.just("vote"), st.integers(0, ORGS - 1), st.integers(0, 1000), st.booleans()),
)


class GovernanceMachine(RuleBasedStateMachine):
    @initialize(threshold=st.sampled_from(THRESHOLDS))
    def start(self, threshold):
        self.chain = GovChain(ORGS, threshold=threshold, lifetime=LIFETIME, validators=3)
        self.orgs = list(self.chain.orgs)
        self.threshold = threshold
        self.validators = {KEYS[i]: 10 for i in range(3)}
        self.proposals: dict[int, ModelProposal] = {}
        self.executions: dict[int, int] = {}

    @rule(actions=st.lists(action, max_size=4))
    def block(self, actions):
        height = self.chain.height + 1
        txs, expected = [], []
        for a in actions:
            if a[0] == "propose":
                tx, code = self._propose(height, *a[1:])
            else:
                tx, code = self._vote(height, *a[1:])
            txs.append(tx)
            expected.append(code)
        power_before = self.chain.validators().total_power()
        old = dict(self.validators)
        expected_block = self._end_block(height)
        run = self.chain.block(*txs)
        assert [r.code for r in run.receipts] == expected
        assert [(r.where.split(":")[0], r.code) for r in run.block_receipts] == expected_block
        updates = [ValidatorUpdate(k, self.validators.get(k, 0)) for k in sorted(old.keys() | self.validators.keys())
                   if old.get(k) != self.validators.get(k)]
        assert run.validator_updates == updates
        executed = [r for r in run.block_receipts if r.code == "ok" and any(e.type == "executed" for e in r.events)]
        if not executed:
            assert run.validator_updates == [] and self.chain.validators().total_power() == power_before
        for r in executed:
            number = int(r.where.rsplit(" ", 1)[1])
            self.executions[number] = self.executions.get(number, 0) + 1
        for where, code in expected_block:
            event(f"end of block: {code}")

    @rule(blocks=st.integers(1, 6))
    def wait(self, blocks):
        for _ in range(blocks):
            self.block([])

    # --- the model ---

    def _propose(self, height, org, kind, key, power, expires_in, execute_in):
        signer = self.chain.admins[self.orgs[org]]
        expires_at = height + expires_in if expires_in else 0
        last = expires_at or height + LIFETIME
        execute_at = min(height + execute_in, last) if execute_in else 0
        payload = {"add": AddValidator(node_id=NODES[key], organisation=self.orgs[org], power=power, pub_key=key),
                   "remove": RemoveValidator(pub_key=key),
                   "power": SetValidatorPower(power=power, pub_key=key)}[kind]
        tx = self.chain.propose(signer, f"{kind}_validator" if kind != "power" else "set_validator_power", payload,
                                expires_at=expires_at, execute_at=execute_at)
        code = self._change_code(kind, key)
        if code == "ok":
            number = len(self.proposals) + 1
            proposal = ModelProposal(kind, key, power, height, last, execute_at, self.threshold)
            self.proposals[number] = proposal
            self._cast(number, self.orgs[org], True, height)
        return tx, code

    def _change_code(self, kind, key) -> str:
        if kind == "add":
            return "governance.duplicate_validator" if key in self.validators else "ok"
        if key not in self.validators:
            return "governance.unknown_validator"
        if kind == "remove" and len(self.validators) == 1:
            return "governance.no_validator_left"
        return "ok"

    def _vote(self, height, org, pick, approve):
        number = 1 + pick % (len(self.proposals) + 1)
        tx = self.chain.vote(self.chain.admins[self.orgs[org]], number, approve)
        proposal = self.proposals.get(number)
        if proposal is None:
            return tx, "governance.unknown_proposal"
        if proposal.status == EXPIRED or (proposal.status == OPEN and height > proposal.expires_at):
            return tx, "governance.proposal_expired"
        if proposal.status != OPEN:
            return tx, "governance.proposal_closed"
        if self.orgs[org] in proposal.votes:
            return tx, "governance.already_voted"
        self._cast(number, self.orgs[org], approve, height)
        return tx, "ok"

    def _cast(self, number, org, approve, height):
        proposal = self.proposals[number]
        proposal.votes[org] = approve
        n, d = proposal.threshold
        approvals = sum(proposal.votes.values())
        rejections = len(proposal.votes) - approvals
        if approvals * d >= n * ORGS:
            proposal.status, proposal.decided = PASSED, height
        elif (ORGS - rejections) * d < n * ORGS:
            proposal.status, proposal.decided = REJECTED, height

    def _end_block(self, height) -> list[tuple[str, str]]:
        receipts = []
        for number, p in sorted(self.proposals.items()):
            if p.status == PASSED and max(p.decided, p.execute_at) == height:
                code = self._change_code(p.kind, p.key)
                if code == "ok":
                    if p.kind == "remove":
                        del self.validators[p.key]
                    else:
                        self.validators[p.key] = p.power
                p.status = EXECUTED if code == "ok" else FAILED
                receipts.append((f"governance proposal {number}", code))
            elif p.status == OPEN and p.expires_at == height:
                p.status = EXPIRED
                receipts.append((f"governance proposal {number}", "ok"))
        return receipts

    def teardown(self):
        for p in self.proposals.values():
            event(f"proposal {p.status}")

    # --- invariants ---

    @invariant()
    def chain_agrees_with_the_model(self):
        recorded = {v.pub_key: v.power for v in self.chain.validators().validators}
        assert recorded == self.validators
        for number, expected in self.proposals.items():
            assert self.chain.proposal(number).status == expected.status

    @invariant()
    def the_validator_set_is_never_empty(self):
        assert self.chain.validators().validators

    @invariant()
    def passing_follows_the_threshold_and_execution_happens_once(self):
        for number in self.proposals:
            p = self.chain.proposal(number)
            size = len(p.electorate)
            reached = p.approvals() * p.threshold_denominator >= p.threshold_numerator * size
            if p.status in (PASSED, EXECUTED, FAILED):
                assert reached and p.decided_at <= p.expires_at
            if p.status in (OPEN, EXPIRED, REJECTED):
                assert not reached
            if p.status == REJECTED:
                assert (size - p.rejections()) * p.threshold_denominator < p.threshold_numerator * size
            if p.status in (EXECUTED, FAILED):
                assert p.executed_at == p.due() <= p.expires_at
            assert self.executions.get(number, 0) == (1 if p.status == EXECUTED else 0)


GovernanceMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
test_governance_invariants = GovernanceMachine.TestCase
