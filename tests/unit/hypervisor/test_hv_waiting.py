import time

import pytest

from cairn.hypervisor.waiting import wait_until


def test_true_at_once_without_sleeping():
    start = time.monotonic()
    assert wait_until(lambda: True, 10) is True
    assert time.monotonic() - start < 0.01


def test_becomes_true_after_a_few_polls():
    calls = []
    assert wait_until(lambda: calls.append(1) or len(calls) >= 3, 5) is True
    assert len(calls) == 3


def test_times_out_close_to_the_deadline():
    start = time.monotonic()
    assert wait_until(lambda: False, 0.3) is False
    assert 0.3 <= time.monotonic() - start < 0.5


def test_zero_timeout_checks_once_and_negative_is_refused():
    calls = []
    assert wait_until(lambda: calls.append(1) or False, 0) is False
    assert len(calls) == 1
    with pytest.raises(ValueError):
        wait_until(lambda: True, -1)
