"""The uniform interface of a module: actions with argument schemas, who may perform them, and queries.

A module is a set of pure functions of (state view, transaction, block context). It reads and writes state
only through the `StateView` it is handed, reports what it did as events, and fails with a `ModuleError`
whose code is stable. Modules never import each other; they meet through state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple, Protocol

import msgspec

from civichain.codec import decode, encode
from civichain.errors import CivicError
from civichain.types import Attribute, Event, Receipt


class ModuleError(CivicError):
    """An action refused by a module's rules; the transaction changes nothing."""


class StateView(Protocol):
    """Reads and buffered writes of the state, as execution hands them to a module."""

    def get(self, key: bytes) -> bytes | None: ...
    def set(self, key: bytes, value: bytes) -> None: ...
    def delete(self, key: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class BlockContext:
    """What an action may know about the block: chain, height and the block's (BFT) time in nanoseconds."""

    chain_id: str
    height: int
    time_ns: int


class Sender(NamedTuple):
    """The account that signed the transaction, as registered in state (a tuple: made for every transaction)."""

    id: str
    organisation: str
    roles: tuple[str, ...]

    def has_role(self, *roles: str) -> bool:
        """Return True when the account holds any of `roles`."""
        return any(role in self.roles for role in roles)


class _Effects:
    """Events and record helpers shared by an action's and an end-of-block task's context."""

    __slots__ = ()
    state: StateView
    events: list[Event]

    def emit(self, module: str, kind: str, key: str, /, **attributes: object) -> None:
        """Record an event; `key` is the indexed subject (a digest, an account id, ...)."""
        attrs = tuple(Attribute(k, _text(v)) for k, v in sorted(attributes.items()))
        self.events.append(Event(module=module, type=kind, key=key, attributes=attrs))

    def load(self, key: bytes, kind: type[msgspec.Struct]) -> msgspec.Struct | None:
        """Return the record stored under `key`, decoded as `kind`, or None."""
        raw = self.state.get(key)
        return None if raw is None else decode(raw, kind, where=key.decode(errors="replace"))

    def save(self, key: bytes, record: msgspec.Struct) -> None:
        """Store `record` under `key` in its canonical form."""
        self.state.set(key, encode(record))


@dataclass(slots=True)
class Context(_Effects):
    """Everything one action sees: state, block, sender, endorsers; and the events it emits."""

    state: StateView
    block: BlockContext
    sender: Sender
    tx_id: bytes
    endorsers: tuple[Sender, ...] = ()
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class HookContext(_Effects):
    """What a module's end-of-block hook sees (state, block) and reports: one block receipt per task.

    The hook runs after the block's transactions, on the state they left. It emits events as an action does
    and closes each task (a due proposal, ...) with `report`, which turns the events emitted since the last
    report into a block receipt. The receipts are hashed into the block's receipts root.
    """

    state: StateView
    block: BlockContext
    events: list[Event] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)

    def report(self, task: str, error: CivicError | None = None) -> None:
        """Close a task: record a block receipt for `task` ("ok", or `error`'s code and facts) with its events."""
        events, self.events = tuple(self.events), []
        if error is None:
            self.receipts.append(Receipt(b"", "ok", where=task, events=events))
        else:
            self.receipts.append(Receipt(b"", error.code, where=f"{task}: {error.where}", got=_text(error.got)[:200],
                                         expected=error.expected, events=events))


class Args(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every action's arguments: a map whose keys are the field names, declared in sorted order.

    Sorted declaration makes the struct's encoding the canonical map (keys sorted), so a client in any
    language produces the same bytes from the same values. Every field is encoded, defaults included.
    """


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a module can be asked to do: its argument schema, how it changes state, and its policy.

    `policy` (modules/policy.py) says who may perform it and whose endorsements it needs; execution checks
    it before `apply` runs. `subjects(state, args)` reads what the policy refers to, as `policy.Facts`: the
    accounts a `Subjects` rule names (e.g. the current owners of a title), the organisation a `Member` rule
    names, the amount and threshold an `AboveThreshold` rule compares. It raises the module's code for a
    record the arguments name and that does not exist, so an unknown record is reported as such.
    """

    name: str
    schema: type[msgspec.Struct]
    apply: Callable[[Context, msgspec.Struct], None]
    summary: str
    policy: object = None            # a modules.policy.Policy, or None for no requirement
    subjects: Callable[[StateView, msgspec.Struct], object] | None = None    # returns a modules.policy.Facts

    def __post_init__(self) -> None:
        fields = list(self.schema.__struct_fields__)
        if fields != sorted(fields) or self.schema.__struct_config__.array_like:
            raise TypeError(f"{self.schema.__name__}: argument fields must be declared in sorted order, as a map")


@dataclass(frozen=True, slots=True)
class Module:
    """A named set of actions, with optional hooks: one that writes the genesis state, one run after each block.

    `init_genesis(state, genesis)` writes the module's genesis records (raising `ModuleError` with a
    `genesis.*` code for a genesis it cannot accept); `end_block(context)` runs after every block's
    transactions, in module-name order, and must be deterministic like an action.
    """

    name: str
    actions: dict[str, Action]
    init_genesis: Callable[[StateView, object], None] | None = None
    end_block: Callable[[HookContext], None] | None = None

    @staticmethod
    def of(name: str, actions: Iterable[Action], init_genesis=None, end_block=None) -> "Module":
        """Build a module from its actions and hooks."""
        return Module(name=name, actions={a.name: a for a in actions}, init_genesis=init_genesis,
                      end_block=end_block)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
