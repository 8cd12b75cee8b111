"""How the suite is spread over pytest-xdist workers (scripts/test.sh: `-n 2
--dist loadscope --no-loadscope-reorder`); conftest.py hands this scheduler to
pytest-xdist.

Every test under tests/system is one scope, `machine`, which one worker runs
in order: they share what the machine has only once (its libvirtd, which some
of them restart; the session's testbed, in its fixed directory). Every other
test module is a scope of its own, run whole and in order by one worker (its
module fixtures made once), given to whichever worker is free. The scopes go
out in the order of collection, so one worker starts on the system tests,
the longest scope, at once while the other takes the unit tests.

Not pytest-xdist's `xdist_group` mark: pytest-xdist 3.8 applies it by
rewriting `item._nodeid`, which pytest 9 no longer reads, so with the mark
alone the system tests ran on both workers at once.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

MACHINE = "tests/system/"  # node ids are relative to the repository's root


class OneMachine(LoadScopeScheduling):
    """`--dist loadscope` by module, with every test under tests/system in one scope."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(MACHINE):
            return "machine"
        return nodeid.split("::", 1)[0]
