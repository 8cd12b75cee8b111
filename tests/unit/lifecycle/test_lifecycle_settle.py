"""Where a VM is after a live migration that failed (cairn.lifecycle.settle.where).

The decision is made from the VM's state on each container alone, so it is
shown here for every pair; what `settle` does with it (ending the other copy)
is shown on the testbed, where a migration can be made to fail midway
(tests/system/test_system_evacuate.py).
"""

from __future__ import annotations

import pytest

from cairn.hypervisor.states import State
from cairn.lifecycle.settle import Side, where

R, B, P, S, U = State.RUNNING, State.BLOCKED, State.PAUSED, State.SHUTOFF, State.UNDEFINED


@pytest.mark.parametrize(
    ("old", "new", "side"),
    [
        (R, U, Side.OLD),  # failed before the new container made anything
        (R, P, Side.OLD),  # the incoming copy never ran
        (P, P, Side.OLD),  # paused there before the switch: its memory is sure to be there
        (P, U, Side.OLD),
        (None, P, Side.OLD),  # the old container does not answer: the copy never ran
        (None, U, Side.OLD),
        (P, R, Side.NEW),  # switched; the old paused copy is what libvirt would end
        (U, R, Side.NEW),
        (S, B, Side.NEW),
        (None, R, Side.NEW),
        (U, P, Side.NEW),  # the old copy is gone: the memory is only there
        (R, R, Side.BOTH),  # never expected; nothing is ended, the administrator decides
        (R, B, Side.BOTH),
        (U, U, Side.NEITHER),
        (S, S, Side.NEITHER),
        (U, None, Side.NEITHER),
    ],
)
def test_the_vm_is_where_it_runs_or_where_its_memory_is_sure_to_be(old, new, side):
    assert where(old, new) is side


def test_no_pair_of_states_gives_two_places_unless_both_run():
    states = [*State, None]
    for old in states:
        for new in states:
            both_run = old in (R, B) and new in (R, B)
            assert (where(old, new) is Side.BOTH) == both_run, (old, new)
