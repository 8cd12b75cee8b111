"""What a command declares: its arguments, parameters, examples and results.

Command modules import only this (and `values`) at import time, so loading a
command to print its help stays cheap. Heavy imports go inside `run`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from cairn import values
from cairn.values import Converter

if TYPE_CHECKING:
    from cairn.context import Context


@dataclass(frozen=True)
class Arg:
    """A positional argument; it may also be given as `name=value`."""

    name: str
    help: str
    required: bool = True
    many: bool = False  # takes every remaining positional word
    convert: Converter = values.text
    metavar: str | None = None

    @property
    def shown(self) -> str:
        word = self.metavar or self.name.upper()
        word = f"{word}..." if self.many else word
        return word if self.required else f"[{word}]"


@dataclass(frozen=True)
class Param:
    """A `name=value` parameter."""

    name: str
    help: str
    default: Any = None
    convert: Converter = values.text
    required: bool = False
    many: bool = False  # may be repeated; the value is a list
    metavar: str = "VALUE"
    # With `many`: one value may also hold several separated by spaces, as
    # Rocks wrote lists (disk="a b" disksize="67 28").
    spaced: bool = False

    @property
    def shown(self) -> str:
        word = f"{self.name}={self.metavar}"
        return word if self.required else f"[{word}]"


@dataclass(frozen=True)
class Example:
    command: str  # the whole command line, starting with `cairn`
    says: str


@dataclass
class Table:
    """Rows under upper-case column names; the renderer prints it."""

    columns: Sequence[str]
    # A list, or an iterator that yields rows as the command reads them (a
    # long listing streamed: see cairn.cli.render).
    rows: Iterable[Sequence[Any]] = field(default_factory=list)
    status: int = 0  # the exit status: non-zero when some rows report a failure
    # Text leaves out the first column (the owner: one host, named by the
    # user), as Rocks' listings do; JSON keeps every key.
    hide_owner: bool = False


@dataclass
class Grouped:
    """Table rows in groups that share their first cell: (first cell, a tuple of
    the other cells of each row), e.g. a host and its attributes. The renderer prints a
    long listing of them without making each row; iterating gives whole rows."""

    groups: Iterable[tuple[Any, Sequence[tuple[Any, ...]]]]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for first, rests in self.groups:
            for rest in rests:
                yield (first, *rest)


@dataclass
class Text:
    """Text printed exactly as it is (reports, dumps)."""

    body: str
    status: int = 0


Result = Table | Text | None


class Command:
    """Base of every command. The docstring's first line is the summary."""

    args: ClassVar[Sequence[Arg]] = ()
    params: ClassVar[Sequence[Param]] = ()
    examples: ClassVar[Sequence[Example]] = ()
    related: ClassVar[Sequence[str]] = ()
    writes: ClassVar[bool] = False  # takes the database write lock up front
    uses_db: ClassVar[bool] = True
    lists: ClassVar[bool] = False  # returns a Table: output-header/output-format apply
    # Talks with the terminal (a console): runs in the `cairn` process itself,
    # not in the cairn service, which has no terminal.
    interactive: ClassVar[bool] = False
    # A parameter that, when given, makes the command line run in the `cairn`
    # process itself, with no cairn service and no database: a tenant's key=
    # (its request is signed here and sent to the Airboss; a key pair is made
    # here). The `cairn` client looks only for the words it lists
    # (cairn.service.client.HERE_PARAMS), so a name here must be one of them.
    here_with: ClassVar[str | None] = None
    # A writer whose only effects are in the database: in batch mode it may
    # share a transaction with the lines around it (cairn.cli.batch).
    in_batch: ClassVar[bool] = False
    # An in_batch writer that does the same when run again on the database as
    # it was (no random MAC or UUID, no clock): batch mode runs it without a
    # savepoint of its own, and again if a later line of its chunk fails.
    replayable: ClassVar[bool] = False

    @classmethod
    def holds(cls, a: dict[str, Any]) -> bool:
        """Whether this replayable line's attribute writes may be held back
        and sent with the next lines' (cairn.db.held): it reads no attribute
        after it writes one."""
        return False

    @classmethod
    def runs_here(cls, rest: Sequence[str]) -> bool:
        """Whether the command line whose words after the command are `rest`
        runs in the `cairn` process itself rather than in the cairn service."""
        given = cls.here_with is not None and any(w.startswith(f"{cls.here_with}=") for w in rest)
        return cls.interactive or given

    def run(self, ctx: Context, a: dict[str, Any]) -> Result:
        raise NotImplementedError
