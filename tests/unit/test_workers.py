"""How scripts/test.sh spreads the suite over two workers (tests/workers.py):
the system tests, which share the machine's libvirtd and testbed, must all
land in one scope, so that one worker runs them in order; any other test goes
with its module."""

import workers


def test_every_system_test_is_in_one_scope_and_every_other_test_in_its_modules() -> None:
    scheduler = object.__new__(workers.OneMachine)  # _split_scope reads nothing of it
    system = [
        "tests/system/test_system_boot.py::test_pin_all_pins_vcpu_i_to_host_cpu_i",
        "tests/system/test_system_move.py::test_a_running_vm_moves_with_its_disk[yes]",
        "tests/system/test_system_web.py::test_virsh_destroy_shows_shut_off",
    ]
    others = [
        "tests/unit/commands/test_vm_list.py::test_list_columns_and_rows[sqlite]",
        "tests/unit/commands/test_vm_list.py::test_list_columns_and_rows[postgresql]",
        "tests/rocks/test_rocks_scripts.py::test_rocks_script[t6000-rocks-kvm-basic]",
        "tests/unit/system/test_x.py::test_not_under_tests_system",
    ]
    assert {scheduler._split_scope(n) for n in system} == {"machine"}
    lite, pg, rocks, elsewhere = (scheduler._split_scope(n) for n in others)
    assert lite == pg != rocks  # a module's tests stay together, in their order
    assert "machine" not in (lite, rocks, elsewhere)
