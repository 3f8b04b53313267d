"""civichain runs only with the pinned CometBFT release."""

from __future__ import annotations

import pytest

from civichain.engine import COMETBFT_VERSION, EngineError, find_cometbft


def test_the_pinned_binary_is_found_and_accepted():
    assert find_cometbft().is_file()


def test_another_version_is_refused_with_a_clear_message(tmp_path):
    fake = tmp_path / "cometbft"
    fake.write_text("#!/bin/sh\necho 1.0.1\n")
    fake.chmod(0o755)
    with pytest.raises(EngineError) as info:
        find_cometbft(fake)
    assert info.value.code == "engine.wrong_version"
    assert info.value.got == "1.0.1" and COMETBFT_VERSION in info.value.expected


def test_a_missing_binary_is_refused(tmp_path):
    with pytest.raises(EngineError) as info:
        find_cometbft(tmp_path / "nothing")
    assert info.value.code == "engine.not_found"
