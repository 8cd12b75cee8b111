"""values.seconds (delay= of the power commands): a number of seconds in bounds,
decimals allowed as Rocks took them, anything else one short reason; and the
parameters that make a command run in the client, which the client must know."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn import values
from cairn.cli import tree
from cairn.service import client

SECONDS = values.seconds(600)


@given(st.floats(min_value=0, max_value=600, allow_nan=False))
def test_seconds_in_bounds_are_taken(value: float) -> None:
    assert SECONDS(repr(value)) == value


@given(st.text(max_size=30))
def test_any_word_is_taken_in_bounds_or_refused_with_a_reason(word: str) -> None:
    try:
        value = SECONDS(word)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(value, float) and 0 <= value <= 600 and not math.isnan(value)


@pytest.mark.parametrize("word", ["-1", "601", "nan", "inf", "-0.5", "1e9", "one", ""])
def test_out_of_bounds_or_not_a_number_is_refused(word: str) -> None:
    with pytest.raises(ValueError, match="seconds"):
        SECONDS(word)


def test_every_here_with_parameter_is_one_the_client_looks_for() -> None:
    here = {
        tree.load(words).here_with for words in tree.all_commands() if tree.load(words).here_with
    }
    assert here == {"key"}
    assert all(f"{name}=" in client.HERE_PARAMS for name in here)
