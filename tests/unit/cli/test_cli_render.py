"""render.py: aligned columns under an upper-case header, no header, JSON."""

from __future__ import annotations

import io
import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cairn.cli.render import render
from cairn.cli.spec import Grouped, Table, Text

HOST_COLUMNS = ["host", "appliance", "os", "rack", "rank", "cpus"]


def rendered(result, **kw) -> str:
    out = io.StringIO()
    render(result, out, **kw)
    return out.getvalue()


def column_starts(header: str) -> list[int]:
    starts, i = [], 0
    for word in header.split():
        i = header.index(word, i)
        starts.append(i)
        i += len(word)
    return starts


def assert_aligned(text: str) -> None:
    lines = text.splitlines()
    starts = column_starts(lines[0])
    for line in lines[1:]:
        fields = line.split()
        assert len(fields) == len(starts), line
        for start, field in zip(starts, fields, strict=True):
            assert line[start:].startswith(field), f"{field!r} is not under its header in {line!r}"
            assert start == 0 or line[start - 1] == " "


def test_table_header_is_upper_case_and_columns_aligned():
    table = Table(("host", "Value", "SOURCE"), [("a", "x", "H"), ("long-host-name", "", "G")])
    text = rendered(table)
    lines = text.splitlines()
    assert lines[0].split() == ["HOST", "VALUE", "SOURCE"]
    assert text.endswith("\n")
    assert lines[1].index("x") == lines[0].index("VALUE")
    assert lines[2].index("G") == lines[0].index("SOURCE")
    assert all(line == line.rstrip() for line in lines)


def test_cells_none_and_booleans():
    text = rendered(Table(("A", "B", "C"), [(None, True, False)]), header=False)
    assert text.split() == ["-", "yes", "no"]


def test_no_header_and_no_rows_prints_nothing():
    assert rendered(Table(("A",), []), header=False) == ""
    assert rendered(Table(("A", "B"), [])).split() == ["A", "B"]


def test_json_keys_are_lower_case_and_values_typed():
    table = Table(("HOST", "Rack", "KVM"), [("a", 0, None), ("b", 3, True)])
    data = json.loads(rendered(table, fmt="json"))
    assert data == [
        {"host": "a", "rack": 0, "kvm": None},
        {"host": "b", "rack": 3, "kvm": True},
    ]
    assert json.loads(rendered(Table(("A",), []), fmt="json")) == []


def test_text_is_printed_exactly_whatever_the_format():
    body = "cairn set attr x value='a\n  b'\n"
    assert rendered(Text(body)) == body
    assert rendered(Text(body), fmt="json", header=False) == body
    assert rendered(None) == ""


def test_list_host_is_aligned_under_its_header(example_cluster):
    out = example_cluster.ok("list", "host")
    assert out.splitlines()[0].split() == [c.upper() for c in HOST_COLUMNS]
    assert_aligned(out)
    assert len(out.splitlines()) == 1 + 5  # the four example hosts and this machine


def test_list_host_attr_is_aligned(example_cluster):
    assert_aligned(example_cluster.ok("list", "host", "attr", "compute-0-0"))


def test_output_header_no_drops_only_the_header(example_cluster):
    with_header = example_cluster.ok("list", "host").splitlines()
    without = example_cluster.ok("list", "host", "output-header=no").splitlines()
    assert [line.split() for line in without] == [line.split() for line in with_header[1:]]


def test_columns_stable_for_awk(example_cluster):
    # `cairn list host output-header=no | awk '{print $1, $2}'`
    out = example_cluster.ok("list", "host", "compute", "vm-container", "output-header=no")
    pairs = [tuple(line.split()[:2]) for line in out.splitlines()]
    assert pairs == [  # in the order the words were given
        ("compute-0-0", "compute"),
        ("compute-0-1", "compute"),
        ("vm-container-0-0", "vm-container"),
        ("vm-container-0-1", "vm-container"),
    ]
    out = example_cluster.ok("list", "host", "interface", "output-header=no")
    fields = [line.split() for line in out.splitlines()]
    # Missing values are "-", so the VLAN column is still the 6th word.
    assert fields == [
        ["compute-0-0", "eth0", "52:54:00:00:00:01", "10.1.255.254", "private", "-", "-", "-", "no"]
    ]


def test_json_output_matches_the_table(example_cluster):
    text = example_cluster.ok("list", "host", "output-header=no")
    data = json.loads(example_cluster.ok("list", "host", "output-format=json"))
    assert [list(row) for row in data] == [HOST_COLUMNS] * len(data)
    assert [[str(v) for v in row.values()] for row in data] == [
        line.split() for line in text.splitlines()
    ]
    by_name = {row["host"]: row for row in data}
    assert by_name["vm-container-0-1"] == {
        "host": "vm-container-0-1",
        "appliance": "vm-container",
        "os": "linux",
        "rack": 0,
        "rank": 1,
        "cpus": 16,
    }


def test_json_format_word_any_case_and_bad_format(example_cluster):
    assert (
        json.loads(example_cluster.ok("list", "network", "output-format=JSON"))[0]["network"]
        == "private"
    )
    r = example_cluster("list", "network", "output-format=xml")
    assert r.code == 2 and "output-format=" in r.err


def test_empty_value_keeps_the_columns_for_awk(example_cluster):
    example_cluster.ok("set", "host", "attr", "compute-0-0", "note", "value=")
    out = example_cluster.ok("list", "host", "attr", "compute-0-0", "attr=note", "output-header=no")
    assert len(out.split()) == 4
    assert out.split()[3] == "H"


def test_a_row_is_one_line_whatever_the_value_holds():
    rows = [
        ("a", "line one\nline two\r\n", "x"),
        ("b", "tab\there", "y"),
        ("c", 7, None),
        ("d", "v\x0bf\x0cesc\x1b[31m", "z"),
    ]
    text = rendered(Table(("K", "V", "S"), rows))
    lines = text.splitlines()
    assert len(lines) == 1 + len(rows)
    assert lines[1].split() == ["a", "line", "one\\nline", "two\\r\\n", "x"]
    assert lines[2].split() == ["b", "tab\\there", "y"]
    assert lines[4].split() == ["d", "v\\x0bf\\x0cesc\\x1b[31m", "z"]
    assert_aligned("\n".join([lines[0], lines[3]]))


def test_multi_line_attribute_lists_on_one_line_and_reports_exactly(example_cluster):
    """The seed's kvm_cpu_pinning example spans lines; listings stay one line each."""
    pinning = "<cputune>\n  <vcpupin vcpu='0' cpuset='0'/>\n</cputune>"
    example_cluster.ok("set", "host", "attr", "compute-0-0", "kvm_cpu_pinning", pinning)
    out = example_cluster.ok("list", "host", "attr", "compute-0-0", "output-header=no")
    (line,) = [x for x in out.splitlines() if " kvm_cpu_pinning " in x]
    assert line.split()[-1] == "H"
    assert "&lt;cputune&gt;\\n  &lt;vcpupin" in line
    assert (
        example_cluster.ok("report", "host", "attr", "compute-0-0", "attr=kvm_cpu_pinning")
        == pinning + "\n"
    )
    rows = json.loads(
        example_cluster.ok("list", "host", "attr", "compute-0-0", "output-format=json")
    )
    assert {r["attr"]: r["value"] for r in rows}["kvm_cpu_pinning"] == (
        pinning.replace("<", "&lt;").replace(">", "&gt;")
    )


# -- streamed tables: rows from an iterator, printed as they come ---------------

STREAM_ROWS = [
    ("a", "x", None),
    ("bb", "", True),
    ("c", "line\none", 3),
    ("dddd", 'Grüße ☃ "q" <x>', False),
]


def test_a_short_streamed_table_prints_as_a_list_does():
    for kw in ({}, {"header": False}, {"fmt": "json"}):
        listed = rendered(Table(("K", "V", "N"), STREAM_ROWS), **kw)
        assert rendered(Table(("K", "V", "N"), iter(STREAM_ROWS)), **kw) == listed, kw
        empty = rendered(Table(("K", "V", "N"), []), **kw)
        assert rendered(Table(("K", "V", "N"), iter([])), **kw) == empty, kw
    owner = Table(("K", "V", "N"), STREAM_ROWS, hide_owner=True)
    assert rendered(Table(("K", "V", "N"), iter(STREAM_ROWS), hide_owner=True)) == rendered(owner)


def test_streamed_json_is_the_array_json_dumps_prints():
    rows = [(f"h{i}", 'v\n"é"\t<&>' * i, i, None, i % 2 == 0) for i in range(5)]
    keys = ("HOST", "VALUE", "N", "NONE", "EVEN")
    lower = [k.lower() for k in keys]
    expected = json.dumps([dict(zip(lower, r, strict=True)) for r in rows], indent=1) + "\n"
    assert rendered(Table(keys, iter(rows)), fmt="json") == expected


def test_a_long_streamed_table_is_printed_before_its_last_row_is_read(monkeypatch):
    """Rows are formatted a chunk at a time: the first lines are out while the
    iterator still has rows to give; widths come from the first chunk."""
    from cairn.cli import render as module

    monkeypatch.setattr(module, "CHUNK", 3)
    out = io.StringIO()
    seen_when_asked: list[int] = []

    def rows():
        for i in range(8):
            seen_when_asked.append(out.getvalue().count("\n"))
            yield (f"host-{i}", "v" * (i + 1), "H")

    render(Table(("HOST", "VALUE", "SOURCE"), rows()), out)
    # Chunks of three rows: the header and the first chunk are out before the
    # fourth row is read, the second chunk before the seventh.
    assert seen_when_asked == [0, 0, 0, 4, 4, 4, 7, 7]
    lines = out.getvalue().splitlines()
    assert len(lines) == 9
    assert [line.split() for line in lines[1:]] == [
        [f"host-{i}", "v" * (i + 1), "H"] for i in range(8)
    ]
    assert_aligned("\n".join(lines[:4]))  # the first chunk sets the columns
    source_at = lines[0].index("SOURCE")
    assert all(line.index(" H") + 1 >= source_at for line in lines[1:])  # later cells push right


# -- Grouped rows (list host attr): the same text as the whole rows ----------

_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 500),
    st.sampled_from(["", " ", "a ", "x\ty", "é<&>", "\x1b[31m", "line\nbreak"]),
    st.text(max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(
    groups=st.lists(
        st.tuples(_CELLS, st.lists(st.tuples(_CELLS, _CELLS, _CELLS), max_size=4)), max_size=6
    ),
    header=st.booleans(),
    fmt=st.sampled_from(["text", "json"]),
)
@example(groups=[(None, [(False, False, False), (False, False, 0)])], header=False, fmt="text")
@example(groups=[("h", [(1, "a", "b"), (True, "a", "b")])], header=True, fmt="text")
def test_grouped_rows_print_as_their_whole_rows(groups, header, fmt):
    columns = ("HOST", "ATTR", "VALUE", "SOURCE")
    whole = [(first, *rest) for first, rests in groups for rest in rests]
    expected = rendered(Table(columns, whole), header=header, fmt=fmt)
    assert rendered(Table(columns, Grouped(iter(groups))), header=header, fmt=fmt) == expected


def test_long_grouped_rows_are_printed_a_chunk_of_whole_groups_at_a_time(monkeypatch):
    from cairn.cli import render as module

    monkeypatch.setattr(module, "CHUNK", 3)
    out = io.StringIO()
    seen_when_asked: list[int] = []

    def groups():
        for i in range(4):
            seen_when_asked.append(out.getvalue().count("\n"))
            yield f"host-{i}", [("a", "v" * (i + 1), "G"), ("b", "w", "H")]

    render(Table(("HOST", "ATTR", "VALUE", "SOURCE"), Grouped(groups())), out)
    # Two groups (four rows) make a chunk: out before the third group is read.
    assert seen_when_asked == [0, 0, 5, 5]
    lines = out.getvalue().splitlines()
    assert [line.split() for line in lines[1:]] == [
        [f"host-{i}", name, value, source]
        for i in range(4)
        for name, value, source in (("a", "v" * (i + 1), "G"), ("b", "w", "H"))
    ]
    assert_aligned("\n".join(lines[:5]))
