"""db/seed.py: the defaults are written in their stored (escaped) form."""

from __future__ import annotations

from cairn.attrs.escape import escape, unescape
from cairn.db import seed


def test_the_seeded_values_are_already_in_their_stored_form() -> None:
    """The seed writes its values as they are, since the database layer cannot
    import attrs to escape them: a default holding & < or > must be spelt
    escaped (&amp; &lt; &gt;), and fails here until it is."""
    given = [*seed.GLOBAL_ATTRS.values()]
    given += [v for attrs in seed.APPLIANCE_ATTRS.values() for v in attrs.values()]
    assert given
    for value in given:
        assert escape(unescape(value)) == value, value
