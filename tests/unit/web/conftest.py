"""The web page's fixtures: see tests/webkit.py."""

from webkit import browser, page  # noqa: F401  (fixtures)
