"""Government modules: the rules of each kind of public record, as pure functions of state and transaction."""

from civichain.modules.base import Action, Args, BlockContext, Context, Module, ModuleError, Sender, StateView
from civichain.modules import notary, registry

ALL_MODULES: dict[str, Module] = {m.name: m for m in (registry.MODULE, notary.MODULE)}

__all__ = ["ALL_MODULES", "Action", "Args", "BlockContext", "Context", "Module", "ModuleError", "Sender", "StateView"]
