"""Endorsement policies: who may perform an action, and whose endorsements it needs, declared as data.

A module attaches a `Policy` to an action. Execution checks it before the action runs, from the signed
transaction alone: the sender (who signed the body) and the endorsers (other accounts that signed the same
body, each verified at admission). A policy has two rules:

* `performer`: a rule the sender alone must satisfy (e.g. `Party(org="land-bureau", role="registrar")`);
* `endorsement`: a rule the set of *parties* (the sender and every endorser) must satisfy together, e.g.
  `All(Party(org="land-bureau"), Party(org="tax-bureau"))`, `AtLeast(2, Party(org="land-bureau"),
  Party(org="tax-bureau"), Party(org="court"))`, or `Subjects()`: every account the module names as the
  subject of the action (the owners of a title) must be a party.

Rules are frozen msgspec structs, so a module's policies can be published (API, docs) exactly as enforced.
A rule that is not satisfied fails the transaction with `auth.not_permitted` (performer) or
`auth.missing_endorsement` (endorsement), naming what is missing and what was expected. Pure: no I/O.
"""

from __future__ import annotations

from typing import Callable, Iterable, Union

import msgspec

from civichain.errors import CivicError
from civichain.modules.base import Sender


class PolicyError(CivicError):
    """A transaction whose signers do not satisfy its action's policy; it changes nothing."""


class Party(msgspec.Struct, frozen=True, tag="party", forbid_unknown_fields=True):
    """Satisfied by an account of organisation `org` (any, if empty) holding `role` (any, if empty)."""

    org: str = ""
    role: str = ""

    def describe(self) -> str:
        if self.org and self.role:
            article = "an" if self.role[:1] in "aeiou" else "a"
            return f"{article} {self.role} of {self.org}"
        return f"an account of {self.org}" if self.org else f"an account with role {self.role or 'any'}"


class Subjects(msgspec.Struct, frozen=True, tag="subjects", forbid_unknown_fields=True):
    """Satisfied when every subject account of the action (as the action's subject resolver names them,
    e.g. the owners of a title) is a party; with `any_one`, when at least one of them is."""

    any_one: bool = False

    def describe(self) -> str:
        return "one of the subjects (e.g. an owner)" if self.any_one else "every subject (e.g. every owner)"


class All(msgspec.Struct, frozen=True, tag="all", forbid_unknown_fields=True):
    """Satisfied when every rule is."""

    rules: tuple["Rule", ...]

    def describe(self) -> str:
        return " AND ".join(_parenthesised(r) for r in self.rules)


class AnyOf(msgspec.Struct, frozen=True, tag="any", forbid_unknown_fields=True):
    """Satisfied when at least one rule is."""

    rules: tuple["Rule", ...]

    def describe(self) -> str:
        return " OR ".join(_parenthesised(r) for r in self.rules)


class AtLeast(msgspec.Struct, frozen=True, tag="at_least", forbid_unknown_fields=True):
    """Satisfied when at least `count` of the rules are, each by a different party."""

    count: int
    rules: tuple["Rule", ...]

    def describe(self) -> str:
        return f"{self.count} of {{{', '.join(r.describe() for r in self.rules)}}}"


Rule = Union[Party, Subjects, All, AnyOf, AtLeast]
SubjectResolver = Callable[[object, msgspec.Struct], frozenset[str]]   # (state view, args) -> account ids


class Policy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who may perform an action (`performer`, checked on the sender) and whose endorsements it needs
    (`endorsement`, checked on the sender and endorsers together). None: no requirement."""

    performer: Rule | None = None
    endorsement: Rule | None = None


def both(*rules: Rule) -> All:
    """`All` of the rules (a readable shorthand in module declarations)."""
    return All(tuple(rules))


def either(*rules: Rule) -> AnyOf:
    """`AnyOf` the rules."""
    return AnyOf(tuple(rules))


def at_least(count: int, *rules: Rule) -> AtLeast:
    """`AtLeast(count)` of the rules."""
    return AtLeast(count, tuple(rules))


def check_policy(policy: Policy, sender: Sender, endorsers: Iterable[Sender] = (),
                 subjects: frozenset[str] = frozenset()) -> None:
    """Raise PolicyError unless `sender` and `endorsers` satisfy `policy` (`subjects` for `Subjects` rules)."""
    if policy.performer is not None and not _satisfied(policy.performer, [sender], subjects):
        raise PolicyError("auth.not_permitted", where="sender", got=_show([sender]),
                          expected=policy.performer.describe())
    if policy.endorsement is not None:
        parties = [sender, *endorsers]
        if not _satisfied(policy.endorsement, parties, subjects):
            raise PolicyError("auth.missing_endorsement", where="endorsements",
                              got=f"signed by {_show(parties)}; missing {_missing(policy.endorsement, parties, subjects)}",
                              expected=policy.endorsement.describe())


def _satisfied(rule: Rule, parties: list[Sender], subjects: frozenset[str]) -> bool:
    if isinstance(rule, Party):
        return any(_matches(rule, p) for p in parties)
    if isinstance(rule, Subjects):
        signed = {p.id for p in parties}
        if not subjects:
            return False
        return bool(subjects & signed) if rule.any_one else subjects <= signed
    if isinstance(rule, All):
        return all(_satisfied(r, parties, subjects) for r in rule.rules)
    if isinstance(rule, AnyOf):
        return any(_satisfied(r, parties, subjects) for r in rule.rules)
    return _distinct_matches(rule, parties, subjects) >= rule.count


def _distinct_matches(rule: AtLeast, parties: list[Sender], subjects: frozenset[str]) -> int:
    """How many of the rules can be satisfied by different parties (a small bipartite matching)."""
    options = [[i for i, p in enumerate(parties) if _satisfied(r, [p], subjects)] for r in rule.rules]
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


def _matches(rule: Party, party: Sender) -> bool:
    return (not rule.org or party.organisation == rule.org) and (not rule.role or rule.role in party.roles)


def _missing(rule: Rule, parties: list[Sender], subjects: frozenset[str]) -> str:
    if isinstance(rule, All):
        return " AND ".join(_missing(r, parties, subjects) for r in rule.rules if not _satisfied(r, parties, subjects))
    if isinstance(rule, Subjects):
        absent = sorted(subjects - {p.id for p in parties})
        return ("one of " if rule.any_one else "") + ", ".join(absent) if absent else "a named subject"
    return rule.describe()


def _parenthesised(rule: Rule) -> str:
    text = rule.describe()
    return f"({text})" if isinstance(rule, (All, AnyOf)) else text


def _show(parties: list[Sender]) -> str:
    return ", ".join(f"{p.id} ({p.organisation})" for p in parties)
