"""attrs/escape.py: the seed's escaping (only & < >), and what users see of it."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.attrs.escape import escape, unescape

ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


@given(st.text())
def test_unescape_inverts_escape(value):
    assert unescape(escape(value)) == value


@given(st.text())
def test_only_ampersand_and_angle_brackets_change(value):
    assert escape(value) == "".join(ENTITIES.get(c, c) for c in value)


@given(st.text(alphabet=st.characters(blacklist_characters="&<>")))
def test_text_without_special_characters_is_untouched(value):
    assert escape(value) == value
    assert unescape(value) == value


def test_examples():
    assert escape("<a b='1'>&amp;</a>") == "&lt;a b='1'&gt;&amp;amp;&lt;/a&gt;"
    assert escape("\"'") == "\"'"  # quotes stay: the seed escapes only & < >
    assert unescape("&quot;&apos;&#60;&amp;lt;") == "&quot;&apos;&#60;&lt;"


# Anything a shell could pass (no NUL) and PostgreSQL could store.
VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=VALUES)
def test_any_value_is_listed_escaped_and_reported_exactly(sqlite_cli, value):
    sqlite_cli.ok("set", "host", "attr", "localhost", "note", f"value={value}")
    assert sqlite_cli.ok("report", "host", "attr", "localhost", "attr=note") == value + "\n"
    listed = json.loads(
        sqlite_cli.ok("list", "host", "attr", "localhost", "attr=note", "output-format=json")
    )
    assert [row["value"] for row in listed] == [escape(value)]
