"""How the suite is spread over pytest-xdist workers (scripts/test.sh: `-n 2
--dist loadgroup`); conftest.py hands this scheduler to pytest-xdist.

Every test under tests/system is one group, `machine`, which one worker runs
in order: they share what the machine has only once (its libvirtd, which some
of them restart; the session's testbed, in its fixed directory). Every other
test is a group of its own, given to whichever worker is free, so the second
worker takes the unit tests while the first runs the system tests.

Grouped by path in the scheduler, not by pytest-xdist's `xdist_group` mark:
pytest-xdist 3.8 applies the mark by rewriting `item._nodeid`, which pytest 9
no longer reads, so with the mark alone the system tests were spread over
both workers.
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling

MACHINE = "tests/system/"  # node ids are relative to the repository's root


class OneMachine(LoadGroupScheduling):
    """`--dist loadgroup`, with every test under tests/system in the group `machine`."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(MACHINE):
            return "machine"
        return str(super()._split_scope(nodeid))
