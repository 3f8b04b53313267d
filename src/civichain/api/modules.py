"""The modules' published rules: each module's actions, their argument schemas and their endorsement policies,
exactly as execution enforces them (the same `Action` and `Policy` objects, turned into JSON here).

A policy is given twice: as data (`policy`, the msgspec structs of modules/policy.py with their `type` tags, for
programs) and in words (`performer`, `endorsement`, for people). An action may refuse more by rules that depend
on state (a programme's own department, the year's threshold): docs/modules/<module>.md lists them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import FastAPI, Path as PathParam

from civichain.ledger.reads import NotFound
from civichain.modules import ALL_MODULES, Action, Module

NOTE = ("Policies are checked by execution before an action runs; an action may refuse more by its own rules "
        "(docs/modules/<module>.md). Argument schemas are JSON Schema; bytes are base64 in JSON, and a "
        "transaction carries the arguments in the canonical encoding.")


def add_module_routes(api: FastAPI) -> None:
    """Add GET /v1/modules and GET /v1/modules/{module}."""

    @api.get("/v1/modules", summary="Every module's actions, argument schemas and endorsement policies, as enforced")
    def list_modules() -> dict:
        return {"modules": [module_answer(m) for m in ALL_MODULES.values()], "note": NOTE}

    @api.get("/v1/modules/{module}", summary="One module's actions, argument schemas and endorsement policies")
    def get_module(module: Annotated[str, PathParam(max_length=32)]) -> dict:
        found = ALL_MODULES.get(module)
        if found is None:
            raise NotFound("api.unknown_module", where="module", got=module,
                           expected=f"one of {', '.join(sorted(ALL_MODULES))}")
        return {**module_answer(found), "note": NOTE}


def module_answer(module: Module) -> dict:
    """Return a module's name and, for each action, its summary, argument schema and policy."""
    return {"module": module.name, "actions": {name: action_answer(a) for name, a in module.actions.items()}}


def action_answer(action: Action) -> dict:
    """Return an action's summary, the JSON Schema of its arguments, its policy as data and in words, and who
    its policy's `subjects` are."""
    policy = action.policy
    performer = getattr(policy, "performer", None)
    endorsement = getattr(policy, "endorsement", None)
    return {"summary": action.summary,
            "arguments": msgspec.json.schema(action.schema),
            "policy": None if policy is None else msgspec.to_builtins(policy),
            "performer": performer.describe() if performer else "anyone the action's own rules allow",
            "endorsement": endorsement.describe() if endorsement else "none required by the policy",
            "subjects": action.subjects.__doc__.split("\n")[0] if action.subjects and action.subjects.__doc__ else ""}
