"""Every registry code: declared once, raised by the module, documented with its number, and produced by a real
transaction whose refusal changes nothing (see codesupport)."""

from __future__ import annotations

import pytest

from civichain.modules import registry
from civichain.modules.registry import AddAccount, ReinstateAccount, RotateKey, SuspendAccount
from tests.conftest import make_signer
from tests.modules.codesupport import (Scenarios, check_declaration, check_documented, check_scenario,
                                       check_scenarios)
from tests.modules.govsupport import GovChain

ADMIN, CLERK, NEW = (make_signer(f"land-bureau/{name}") for name in ("admin", "clerk", "new"))
SCENARIOS = Scenarios()


def chain_with(*setup) -> GovChain:
    """land-bureau (ADMIN and CLERK) and finance-bureau, after `setup`: (signer, action, args) run in turn."""
    chain = GovChain(2)
    for signer, action, args in setup:
        assert chain.block(chain.tx(signer, "registry", action, args)).receipts[0].code == "ok"
    return chain


@SCENARIOS.of("registry.not_admin")
def a_clerk_adds_an_account():
    chain = chain_with()
    return chain, chain.tx(CLERK, "registry", "add_account", AddAccount(id=NEW.account, public_key=NEW.public_key))


@SCENARIOS.of("registry.bad_account_id")
def an_admin_adds_an_account_to_another_organisation():
    chain = chain_with()
    return chain, chain.tx(ADMIN, "registry", "add_account",
                           AddAccount(id="finance-bureau/new", public_key=NEW.public_key))


@SCENARIOS.of("registry.account_exists")
def an_admin_adds_an_account_twice():
    chain = chain_with()
    return chain, chain.tx(ADMIN, "registry", "add_account",
                           AddAccount(id=CLERK.account, public_key=NEW.public_key))


@SCENARIOS.of("registry.unknown_account")
def an_admin_suspends_an_account_never_added():
    chain = chain_with()
    return chain, chain.tx(ADMIN, "registry", "suspend_account",
                           SuspendAccount(id="land-bureau/nobody", reason="r"))


@SCENARIOS.of("registry.cannot_suspend_self")
def an_admin_suspends_itself():
    chain = chain_with()
    return chain, chain.tx(ADMIN, "registry", "suspend_account", SuspendAccount(id=ADMIN.account, reason="r"))


@SCENARIOS.of("registry.already_suspended")
def an_admin_suspends_a_suspended_account():
    chain = chain_with((ADMIN, "suspend_account", SuspendAccount(id=CLERK.account, reason="laptop lost")))
    return chain, chain.tx(ADMIN, "registry", "suspend_account",
                           SuspendAccount(id=CLERK.account, reason="again"))


@SCENARIOS.of("registry.not_suspended")
def an_admin_reinstates_an_active_account():
    chain = chain_with()
    return chain, chain.tx(ADMIN, "registry", "reinstate_account", ReinstateAccount(id=CLERK.account))


@SCENARIOS.of("registry.rotation_not_permitted")
def a_clerk_rotates_its_admins_key():
    chain = chain_with()
    return chain, chain.tx(CLERK, "registry", "rotate_key",
                           RotateKey(id=ADMIN.account, public_key=NEW.public_key))


@SCENARIOS.of("registry.same_key")
def an_account_rotates_to_its_own_key():
    chain = chain_with()
    return chain, chain.tx(CLERK, "registry", "rotate_key",
                           RotateKey(id=CLERK.account, public_key=CLERK.public_key))


def test_the_declared_codes_are_the_ones_the_registry_raises():
    check_declaration(registry.ERROR_CODES, "registry", "registry.py")


def test_every_registry_code_is_documented_with_its_number():
    check_documented(registry.ERROR_CODES, "registry.md")


def test_every_registry_code_has_a_scenario():
    check_scenarios(registry.ERROR_CODES, SCENARIOS)


@pytest.mark.parametrize("code", registry.ERROR_CODES)
def test_the_scenario_gets_its_code_and_changes_nothing(code):
    check_scenario(SCENARIOS, code)
