"""Government modules: the rules of each kind of public record, as pure functions of state and transaction.

`membership` is not a module but the records several modules share (organisations, accounts, validators,
admitted nodes): modules never import each other, they meet through those records.
"""

from civichain.modules.base import (
    Action,
    Args,
    BlockContext,
    Context,
    HookContext,
    Module,
    ModuleError,
    Sender,
    StateView,
)
from civichain.modules import funds, governance, identity, land, notary, registry

ALL_MODULES: dict[str, Module] = {
    m.name: m for m in (registry.MODULE, notary.MODULE, governance.MODULE, identity.MODULE, land.MODULE, funds.MODULE)
}

__all__ = ["ALL_MODULES", "Action", "Args", "BlockContext", "Context", "HookContext", "Module", "ModuleError",
           "Sender", "StateView"]
