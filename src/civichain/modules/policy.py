"""Endorsement policies: who may perform an action, and whose endorsements it needs, declared as data.

A module attaches a `Policy` to an action. Execution checks it before the action runs, from the signed
transaction alone: the sender (who signed the body) and the endorsers (other accounts that signed the same
body, each verified at admission). A policy has two rules:

* `performer`: a rule the sender alone must satisfy (e.g. `Party(org="land-bureau", role="registrar")`);
* `endorsement`: a rule the set of *parties* (the sender and every endorser) must satisfy together, e.g.
  `All(Party(org="land-bureau"), Party(org="tax-bureau"))`, `AtLeast(2, Party(org="land-bureau"),
  Party(org="tax-bureau"), Party(org="court"))`, or `Subjects()`: every account the module names as the
  subject of the action (the owners of a title) must be a party.

Some rules refer to what the action is about rather than to fixed names: `Subjects` (the accounts it names),
`Member` (a holder of a role in the organisation it concerns: an account's own organisation, a programme's
department), `OtherOrg` (an organisation other than the sender's) and `AboveThreshold` (a rule that applies
only when the amount moved is above a threshold kept in state). The action's resolver reads those `Facts`
from state and the arguments before the policy is checked.

Rules are frozen msgspec structs, so a module's policies can be published (API, docs) exactly as enforced.
A rule that is not satisfied fails the transaction with the policy's `refusal` code (`auth.not_permitted`
unless the module kept an older code of its own) for the performer, or `auth.missing_endorsement` for the
endorsement, naming what is missing and what was expected. Pure: no I/O.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple, Union

import msgspec

from civichain.errors import CivicError
from civichain.modules.base import Sender

NOT_PERMITTED, MISSING_ENDORSEMENT = "auth.not_permitted", "auth.missing_endorsement"
ERROR_CODES = (NOT_PERMITTED, MISSING_ENDORSEMENT)    # in their ABCI numbering order (120, 121): append only


class PolicyError(CivicError):
    """A transaction whose signers do not satisfy its action's policy; it changes nothing."""


class Facts(NamedTuple):
    """What an action is about, as its policy refers to it: read from state and arguments before the check.

    `subjects` are the accounts `Subjects` rules name (the owners of a title); `organisation` is the one
    `Member` rules name (the account's own organisation, the programme's department); `AboveThreshold` rules
    compare `amount` with `threshold` (`threshold_of` says whose, for messages). An amount of 0 moves nothing
    that needs approval.
    """

    subjects: frozenset[str] = frozenset()
    organisation: str = ""
    amount: int = 0
    threshold: int = 0
    threshold_of: str = ""


NO_FACTS = Facts()


class Scope(NamedTuple):
    """What a rule is checked against besides the parties: the sender and the action's facts."""

    sender: Sender | None = None
    facts: Facts = NO_FACTS


class Party(msgspec.Struct, frozen=True, tag="party", forbid_unknown_fields=True):
    """Satisfied by an account of organisation `org` (any, if empty) holding `role` (any, if empty)."""

    org: str = ""
    role: str = ""

    def describe(self, scope: Scope | None = None) -> str:
        if self.org and self.role:
            article = "an" if self.role[:1] in "aeiou" else "a"
            return f"{article} {self.role} of {self.org}"
        return f"an account of {self.org}" if self.org else f"an account with role {self.role or 'any'}"


class Member(msgspec.Struct, frozen=True, tag="member", forbid_unknown_fields=True):
    """Satisfied by an account of the organisation the action concerns (`Facts.organisation`: an account's
    own organisation, a programme's department, ...) holding `role` (any, if empty)."""

    role: str = ""

    def describe(self, scope: Scope | None = None) -> str:
        named = scope.facts.organisation if scope is not None and scope.facts.organisation else ""
        return Party(org=named or "the organisation concerned", role=self.role).describe()


class OtherOrg(msgspec.Struct, frozen=True, tag="other_org", forbid_unknown_fields=True):
    """Satisfied by an account of an organisation other than the sender's holding `role` (any, if empty):
    a second department."""

    role: str = ""

    def describe(self, scope: Scope | None = None) -> str:
        sender = scope.sender.organisation if scope is not None and scope.sender is not None else "the sender's"
        return Party(org=f"an organisation other than {sender}", role=self.role).describe()


class Subjects(msgspec.Struct, frozen=True, tag="subjects", forbid_unknown_fields=True):
    """Satisfied when every subject account of the action (as the action's resolver names them, e.g. the
    owners of a title) is a party; with `any_one`, when at least one of them is."""

    any_one: bool = False

    def describe(self, scope: Scope | None = None) -> str:
        return "one of the subjects (e.g. an owner)" if self.any_one else "every subject (e.g. every owner)"


class All(msgspec.Struct, frozen=True, tag="all", forbid_unknown_fields=True):
    """Satisfied when every rule is."""

    rules: tuple["Rule", ...]

    def describe(self, scope: Scope | None = None) -> str:
        return " AND ".join(_parenthesised(r, scope) for r in self.rules)


class AnyOf(msgspec.Struct, frozen=True, tag="any", forbid_unknown_fields=True):
    """Satisfied when at least one rule is."""

    rules: tuple["Rule", ...]

    def describe(self, scope: Scope | None = None) -> str:
        return " OR ".join(_parenthesised(r, scope) for r in self.rules)


class AtLeast(msgspec.Struct, frozen=True, tag="at_least", forbid_unknown_fields=True):
    """Satisfied when at least `count` of the rules are, each by a different party."""

    count: int
    rules: tuple["Rule", ...]

    def describe(self, scope: Scope | None = None) -> str:
        return f"{self.count} of {{{', '.join(r.describe(scope) for r in self.rules)}}}"


class AboveThreshold(msgspec.Struct, frozen=True, tag="above_threshold", forbid_unknown_fields=True):
    """Satisfied when the action's amount is at most its threshold (`Facts`), and above it only when `rule` is."""

    rule: "Rule"

    def describe(self, scope: Scope | None = None) -> str:
        rule = _parenthesised(self.rule, scope)
        if scope is None:
            return f"above the amount's threshold: {rule}"
        facts = scope.facts
        amount = f"for {facts.amount} fen, " if facts.amount > facts.threshold else ""
        whose = f" of {facts.threshold_of}" if facts.threshold_of else ""
        return f"{amount}above the threshold of {facts.threshold} fen{whose}: {rule}"


Rule = Union[Party, Member, OtherOrg, Subjects, All, AnyOf, AtLeast, AboveThreshold]


class Policy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who may perform an action (`performer`, checked on the sender) and whose endorsements it needs
    (`endorsement`, checked on the sender and endorsers together). None: no requirement. A sender who does
    not satisfy `performer` is refused with `refusal`."""

    performer: Rule | None = None
    endorsement: Rule | None = None
    refusal: str = NOT_PERMITTED


def both(*rules: Rule) -> All:
    """`All` of the rules (a readable shorthand in module declarations)."""
    return All(tuple(rules))


def either(*rules: Rule) -> AnyOf:
    """`AnyOf` the rules."""
    return AnyOf(tuple(rules))


def at_least(count: int, *rules: Rule) -> AtLeast:
    """`AtLeast(count)` of the rules."""
    return AtLeast(count, tuple(rules))


def check_policy(policy: Policy, sender: Sender, endorsers: Iterable[Sender] = (), facts: Facts = NO_FACTS) -> None:
    """Raise PolicyError unless `sender` and `endorsers` satisfy `policy`, given the action's `facts`.

    Raises the policy's `refusal` code (`auth.not_permitted` by default) when the sender does not satisfy
    `performer`, and `auth.missing_endorsement` when the parties do not satisfy `endorsement`.
    """
    scope = Scope(sender, facts)
    if policy.performer is not None and not _satisfied(policy.performer, [sender], scope):
        raise PolicyError(policy.refusal, where="sender", got=_show([sender]),
                          expected=policy.performer.describe(scope))
    if policy.endorsement is not None:
        parties = [sender, *endorsers]
        if not _satisfied(policy.endorsement, parties, scope):
            raise PolicyError(MISSING_ENDORSEMENT, where="endorsements",
                              got=f"signed by {_show(parties)}; missing {_missing(policy.endorsement, parties, scope)}",
                              expected=policy.endorsement.describe(scope))


def _satisfied(rule: Rule, parties: list[Sender], scope: Scope) -> bool:
    if isinstance(rule, Party):
        # Checked for nearly every transaction: plain loops, no generator frames.
        role, org = rule.role, rule.org
        for p in parties:
            if (not role or role in p.roles) and (not org or p.organisation == org):
                return True
        return False
    if isinstance(rule, Member):
        organisation = scope.facts.organisation
        return bool(organisation) and any(_holds(p, rule.role) and p.organisation == organisation for p in parties)
    if isinstance(rule, OtherOrg):
        return any(_holds(p, rule.role) and p.organisation != scope.sender.organisation for p in parties)
    if isinstance(rule, Subjects):
        signed, subjects = {p.id for p in parties}, scope.facts.subjects
        if not subjects:
            return False
        return bool(subjects & signed) if rule.any_one else subjects <= signed
    if isinstance(rule, All):
        return all(_satisfied(r, parties, scope) for r in rule.rules)
    if isinstance(rule, AnyOf):
        for r in rule.rules:
            if _satisfied(r, parties, scope):
                return True
        return False
    if isinstance(rule, AboveThreshold):
        return scope.facts.amount <= scope.facts.threshold or _satisfied(rule.rule, parties, scope)
    return _distinct_matches(rule, parties, scope) >= rule.count


def _distinct_matches(rule: AtLeast, parties: list[Sender], scope: Scope) -> int:
    """How many of the rules can be satisfied by different parties (a small bipartite matching)."""
    options = [[i for i, p in enumerate(parties) if _satisfied(r, [p], scope)] for r in rule.rules]
    best = 0

    def extend(index: int, used: frozenset[int], count: int) -> None:
        nonlocal best
        best = max(best, count)
        if index == len(options) or count + (len(options) - index) <= best:
            return
        for party in options[index]:
            if party not in used:
                extend(index + 1, used | {party}, count + 1)
        extend(index + 1, used, count)

    extend(0, frozenset(), 0)
    return best


def _holds(party: Sender, role: str) -> bool:
    return not role or role in party.roles


def _missing(rule: Rule, parties: list[Sender], scope: Scope) -> str:
    if isinstance(rule, All):
        return " AND ".join(_missing(r, parties, scope) for r in rule.rules if not _satisfied(r, parties, scope))
    if isinstance(rule, AboveThreshold):
        return _missing(rule.rule, parties, scope)
    if isinstance(rule, Subjects):
        absent = sorted(scope.facts.subjects - {p.id for p in parties})
        return ("one of " if rule.any_one else "") + ", ".join(absent) if absent else "a named subject"
    return rule.describe(scope)


def _parenthesised(rule: Rule, scope: Scope | None) -> str:
    text = rule.describe(scope)
    return f"({text})" if isinstance(rule, (All, AnyOf)) else text


def _show(parties: list[Sender]) -> str:
    return ", ".join(f"{p.id} ({p.organisation})" for p in parties)
