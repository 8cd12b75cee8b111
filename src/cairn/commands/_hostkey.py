"""What `add|list|remove host key` share: the FRONTEND argument and the columns."""

from __future__ import annotations

from cairn.cli.spec import Arg

FRONTEND = Arg("frontend", "the frontend VM of a virtual cluster")
COLUMNS = ("HOST", "ID", "ALGORITHM", "FINGERPRINT", "COMMENT")
