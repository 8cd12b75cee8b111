"""The exceptions every layer raises and the CLI turns into exit codes.

Only the exception types live here; no layer below `cli/` prints or exits.
A message is one line that says what is wrong and how to fix it.
"""


class CairnError(Exception):
    """A problem the user can fix; the CLI prints `error - <message>` and exits 1."""

    exit_code = 1
    line: int | None = None  # batch mode: the line it is of, when not the one running


class UsageError(CairnError):
    """The command line itself is wrong (unknown word, missing argument); exit 2."""

    exit_code = 2


class NotFound(CairnError):
    """A named thing (host, appliance, attribute, ...) does not exist."""


class Conflict(CairnError):
    """The thing to add exists already, or a change would break a rule."""
