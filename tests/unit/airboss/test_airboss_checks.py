"""checks.may, the one answer to who may touch which VM, read straight from a
database (the Airboss's tests ask it through the port)."""

from __future__ import annotations

import pytest

from cairn.airboss import checks
from cairn.airboss.envelope import Refused
from testkit import reading


def test_what_each_op_acts_on(lab) -> None:
    fp = lab.owner.fingerprint
    lab.cli.ok("add", "cluster", "named", "computes=1", "subnet=198.19.10.0/24", "mem=64",
               "public=none")  # fmt: skip
    lab.cli.ok("add", "host", "key", "named", f"key={lab.owner.key}.pub")
    with reading(lab.cli.url) as session:
        assert checks.may(session, fp, "power", "vc-compute-1").hosts == ("vc-compute-1",)
        assert checks.may(session, fp, "power", "vc").hosts == ("vc",)  # its own frontend too
        assert checks.may(session, fp, "cluster-power", "vc") == checks.Allowed(
            "vc", "vc", ("vc-compute-0", "vc-compute-1")
        )
        assert checks.may(session, fp, "macs", "vc").hosts == ("vc", "vc-compute-0", "vc-compute-1")
        # one key, two clusters: each is its own
        assert checks.may(session, fp, "macs", "named").hosts == ("named", "named-compute-0")
        with pytest.raises(Refused, match="another cluster"):
            checks.may(session, lab.other.fingerprint, "macs", "named")
