from cairn.hypervisor.guest import Guest
from cairn.hypervisor.listing import list_states
from cairn.hypervisor.states import State


class CallCounter:
    """Counts calls to a real connection's methods (and still makes them)."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __getattr__(self, name):
        attr = getattr(self.real, name)
        self.calls.append(name)
        return attr


def test_every_state_in_a_constant_number_of_calls(conn, make_xml):
    guests = {n: Guest.define(conn, make_xml(n)) for n in ("off", "run", "paused", "saved")}
    for n in ("run", "paused", "saved"):
        guests[n].launch()
    guests["paused"].pause()
    guests["saved"].managed_save()
    for i in range(20):
        Guest.define(conn, make_xml(f"extra{i}"))

    counting = CallCounter(conn)
    states = list_states(counting)

    assert {n: states[n] for n in ("test", "off", "run", "paused", "saved")} == {
        "test": State.RUNNING,
        "off": State.SHUTOFF,
        "run": State.RUNNING,
        "paused": State.PAUSED,
        "saved": State.SAVED,
    }
    assert len(states) == 25
    assert counting.calls == ["getAllDomainStats", "listAllDomains"]


def test_no_managed_save_query_when_nothing_is_shut_off(conn):
    counting = CallCounter(conn)
    assert list_states(counting) == {"test": State.RUNNING}
    assert counting.calls == ["getAllDomainStats"]
