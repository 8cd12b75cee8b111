"""The seed's escaping of attribute values: only `&`, `<` and `>` are escaped.

Values are stored and listed escaped; `unescape(escape(v)) == v` for every
string, which is what consumers (domain XML, reports) use.
"""

from __future__ import annotations

import re

_FROM = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ESCAPED = re.compile("&(?:amp|lt|gt);")


def escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(stored: str) -> str:
    return _ESCAPED.sub(lambda m: _FROM[m.group(0)], stored)
