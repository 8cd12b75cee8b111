"""What a bug in cairn becomes: an exception no layer expected (not a
CairnError) is one `error - internal error in 'COMMAND': TYPE: MESSAGE (...)`
line for the user, with exit status 70 (EX_SOFTWARE), and a traceback kept
where this process keeps them: the cairn service's log, or, in a plain
process, the user's stderr only when CAIRN_DEBUG=1 asks for it.

Only that belongs here; the command's transaction is rolled back by the
context it ran in, before this sees the exception.
"""

from __future__ import annotations

import logging
import os
import traceback
from typing import TextIO

from cairn.errors import CairnError

log = logging.getLogger("cairn.bugs")
_DEBUG_OFF = ("", "0", "no", "off")


class InternalError(CairnError):
    """A bug in cairn, said in one line (the traceback is kept elsewhere)."""

    exit_code = 70


class _Kept:
    # Set once by the cairn service: it logs every traceback, at the place it names.
    log_place: str | None = None


def keep_in_log(place: str) -> None:
    """From now on, tracebacks go to this process's log (`logging`), which is at `place`."""
    _Kept.log_place = place


def internal_error(exc: BaseException, title: str, err: TextIO) -> InternalError:
    """The one-line error for `exc`, raised by the command `title`; its
    traceback logged, written to `err` (CAIRN_DEBUG), or left out."""
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if _Kept.log_place is not None:
        log.error("internal error in '%s'", title, exc_info=exc)
        hint = f"the traceback is in the service log {_Kept.log_place}"
    elif os.environ.get("CAIRN_DEBUG", "").lower() not in _DEBUG_OFF:
        traceback.print_exception(exc, file=err)
        hint = "the traceback is above"
    else:
        hint = "CAIRN_DEBUG=1 shows its traceback"
    return InternalError(f"internal error in '{title}': {what} (a bug in cairn; {hint})")
