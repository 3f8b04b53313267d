"""Amounts typed in yuan become integer fen exactly (no floats), and fen are shown back in yuan."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from civichain.client.funds import AmountError, fen_of_yuan, yuan


@pytest.mark.parametrize("text, fen", [("0.01", 1), ("1", 100), ("1250000.5", 125_000_050), ("1,000,000", 100_000_000),
                                       (" 12.34 ", 1_234), ("0.10", 10)])
def test_yuan_become_whole_fen(text, fen):
    assert fen_of_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "-1", "1.234", "1e6", "¥5", "1.", ".5", "NaN", "12 34"])
def test_anything_but_yuan_with_two_decimals_is_refused(text):
    with pytest.raises(AmountError) as caught:
        fen_of_yuan(text)
    assert caught.value.code == "cli.bad_amount"


@given(st.integers(0, 10**18 - 1))
def test_fen_shown_in_yuan_read_back_unchanged(fen):
    assert fen_of_yuan(yuan(fen)) == fen


def test_yuan_are_written_with_separators():
    assert yuan(123_456_789) == "1,234,567.89" and yuan(5) == "0.05" and yuan(-250) == "-2.50"
