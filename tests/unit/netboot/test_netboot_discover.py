"""The MACs `insert ethers` reads from a listing and from dnsmasq's log: every
MAC among any other words, nothing that is not one, each once, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cairn import values
from cairn.netboot import discover

MACS = st.lists(st.binary(min_size=6, max_size=6), max_size=6).map(
    lambda raw: [":".join(f"{b:02x}" for b in r) for r in raw]
)
WORDS = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20))


@given(MACS, WORDS)
def test_a_listing_gives_its_macs_and_nothing_else(macs, words):
    padded = words + [""] * len(macs)
    text = "\n".join(f"{w}\t{m.upper()} {w}" for m, w in zip(macs, padded, strict=False))
    found = discover.macs_in("MACS IN CLUSTER\n" + text)
    assert all(values.mac(m) == m for m in found)
    assert [m for m in found if m in macs] == list(dict.fromkeys(macs))


def test_the_log_gives_macs_in_the_order_they_first_asked(tmp_path):
    log = tmp_path / "dnsmasq.log"
    log.write_text(
        "Dec  6 07:30:00 dnsmasq-dhcp[12]: DHCPDISCOVER(br0) 52:54:00:00:00:02 no address"
        " available\n"
        "Dec  6 07:30:01 dnsmasq-dhcp[12]: 4242 DHCPDISCOVER(br1) 52:54:00:00:00:03\n"
        "Dec  6 07:30:02 dnsmasq-dhcp[12]: DHCPREQUEST(br0) 198.18.5.9 52:54:00:00:00:01\n"
        "Dec  6 07:30:03 dnsmasq-dhcp[12]: DHCPDISCOVER(br0) 52:54:00:00:00:02\n"
        "Dec  6 07:30:04 dnsmasq[12]: DHCPDISCOVER(br0) 52:54:00:00:00:09 forged by a user\n"
    )
    assert discover.asking(log) == ["52:54:00:00:00:02", "52:54:00:00:00:03", "52:54:00:00:00:01"]
    assert discover.asking(log, {"br0"}) == ["52:54:00:00:00:02", "52:54:00:00:00:01"]
    assert discover.asking(tmp_path / "none.log") == []
