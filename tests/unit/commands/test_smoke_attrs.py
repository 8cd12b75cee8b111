"""First end-to-end check of attribute commands on every backend."""


def test_set_list_report_roundtrip(cluster):
    value = "<cputune><vcpupin vcpu='0' cpuset='4'/></cputune> & more"
    cluster.ok("set", "host", "attr", "compute-0-0", "note", f"value={value}")
    listed = cluster.ok("list", "host", "attr", "compute-0-0", "attr=note", "output-header=no")
    assert "&lt;cputune&gt;" in listed and "&amp; more" in listed
    assert listed.split()[-1] == "H"
    assert cluster.ok("report", "host", "attr", "compute-0-0", "attr=note") == value + "\n"
