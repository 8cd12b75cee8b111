"""The `cairn` command: a thin client of the cairn service.

For an ordinary command it imports none of SQLAlchemy, psycopg or libvirt
(nor `json`, `socket` or `pathlib`: start-up time is the point). It finds the
service for this caller's database (`address`), starts one if none answers
(as Bazel's and Gradle's clients do), sends the words and copies what comes
back to its own stdout and stderr. Help and `--version` need no service.
`cairn watch` IS the service, in the foreground. With CAIRN_SERVICE=off, or
when no service can run (said on stderr), the command runs in this process
through the same code. With no words and a pipe on stdin it runs every line
of stdin (batch mode, `cairn dump | cairn`).
"""

from __future__ import annotations

import os
import sys
import time

from cairn.errors import CairnError
from cairn.service import wire
from cairn.service.address import key_env, open_private, served, socket_path, version
from cairn.service.control import Met, Refused, Unreachable, hello, open_channel, stop

TYPE_CHECKING = False  # not typing's: importing typing costs the client time
if TYPE_CHECKING:
    from typing import BinaryIO

_HELP_WORDS = frozenset({"help", "--help", "-h"})
START_TIMEOUT_S = 30.0
TAKE_OVER_TRIES = 5
# A service started on demand stops after this long without a client (or
# sooner, when its database is gone); `cairn watch` alone runs for good.
ON_DEMAND_IDLE_S = 300
# The parameters that make some commands run here, with no service and no
# database (cli.spec Command.here_with: a tenant's key=). Only a command line
# that holds one is looked up in the command tree before it goes anywhere.
HERE_PARAMS = ("key=",)
# Parameters that name a file on the caller's machine, which the service (in
# another working directory) reads: a relative path is made absolute here.
LOCAL_FILES = ("key=",)


class NoService(Exception):
    """The service cannot run: the command runs in this process instead."""


def main(argv: list[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    batch = not words and not sys.stdin.isatty()
    if (
        os.environ.get("CAIRN_SERVICE", "").lower() in ("off", "no", "0")
        or (not words and not batch)
        or (words and (words[0] in _HELP_WORDS or words[-1] in _HELP_WORDS))
        or words == ["--version"]
        # They ask the service themselves, and must not start one.
        or words[:2] in (["stop", "service"], ["report", "service"])
    ):
        return _here(words, batch)
    try:
        if words[:1] == ["watch"]:
            return _serve(words)
        if _runs_here(words):
            return _here(words, batch)
        return _through_service(_absolute(words), batch)
    except CairnError as exc:
        text = " ".join(str(exc).split())
        print(f"error - {text}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error - interrupted (a command already sent runs to its end)", file=sys.stderr)
        return 130
    except NoService as exc:
        print(f"warning - no cairn service ({exc}): running in this process", file=sys.stderr)
        return _here(words, batch)


def _here(words: list[str], batch: bool) -> int:
    from cairn.cli import main as cli

    if batch:
        from cairn.cli.batch import lines_of, run_lines

        # Not sys.stdin: text mode would turn \r and \r\n inside values into \n.
        lines = lines_of(sys.stdin.buffer)
        return run_lines(lines, sys.stdout, sys.stderr, progress=sys.stderr.isatty())
    return cli.main(words)


def _runs_here(words: list[str]) -> bool:
    """Whether the command line runs here, with no service (a tenant's key=)."""
    if not any(w.startswith(HERE_PARAMS) for w in words):
        return False
    from cairn.cli.main import find

    try:
        command, _title, rest = find(words)
    except CairnError:
        return False  # the service says what is wrong with the words
    return command.runs_here(rest)


def _absolute(words: list[str]) -> list[str]:
    """`words` with each relative path of a LOCAL_FILES parameter made absolute,
    when it names a file here (a key's text, `key='ssh-ed25519 ...'`, does not)."""
    out = []
    for word in words:
        name, _, value = word.partition("=")
        relative = value[:1] not in ("/", "~", "")
        if word.startswith(LOCAL_FILES) and relative and os.path.isfile(value):
            word = f"{name}={os.path.abspath(value)}"
        out.append(word)
    return out


def _through_service(words: list[str], batch: bool) -> int:
    env = key_env()
    if not served(env["CAIRN_DB_URL"]):
        return _here(words, batch)  # the command says what is wrong with the URL
    if any("\0" in word for word in words):
        return _here(words, batch)  # no frame can carry it: the command refuses it
    chan, pid = connect(socket_path(env), env)
    tty = b"1" if sys.stderr.isatty() else b"0"
    if batch:
        chan.send(wire.BATCH, tty + sys.stdin.buffer.read())
    else:
        chan.send(wire.RUN, tty + wire.pack(words))
    status = relay(chan, pid, batch=batch)
    return _here(words, batch) if status is None else status


def relay(
    chan: wire.Channel,
    pid: int,
    *,
    batch: bool = False,
    out: BinaryIO | None = None,
    err: BinaryIO | None = None,
) -> int | None:
    """Copies the service's frames to `out` and `err` (stdout and stderr);
    the command's status (None: an interactive command, which the client
    runs itself)."""
    out = sys.stdout.buffer if out is None else out
    err = sys.stderr.buffer if err is None else err
    try:
        while True:
            try:
                frame = chan.receive()
            except (ConnectionResetError, ValueError):
                frame = None
            if frame is None:
                if batch:
                    raise CairnError(
                        f"the cairn service (pid {pid}) stopped during the batch; the database"
                        " holds the lines from the first up to some line, each whole, and none"
                        " of the rest: look (cairn dump) before running them again"
                    )
                raise CairnError(
                    f"the cairn service (pid {pid}) stopped during the command; the database"
                    " holds all of it or none of it: look before running it again"
                )
            tag, payload = frame
            if tag == wire.OUT:
                out.write(payload)
            elif tag == wire.ERR:
                out.flush()
                err.write(payload)
                err.flush()
            elif tag == wire.REFUSED:
                raise Refused(payload.decode())
            elif tag == wire.EXIT:
                out.flush()
                return int(payload)
            elif tag == wire.LOCAL:
                return None
    except BrokenPipeError:
        return 0
    finally:
        chan.close()


def connect(path: str, env: dict[str, str], *, start: bool = True) -> tuple[wire.Channel, int]:
    """A channel to the service at `path` that has accepted this client, and
    its pid. Starts the service if none answers; restarts one of another
    version that this user owns, once it has finished what it runs for others."""
    mine = version()
    for attempt in range(2):
        met = _hello(path, env)
        if met is None:
            if not start:
                raise NoService(f"nothing listens on {path}")
            start_service(path)
            met = _hello(path, env)
            if met is None:
                raise NoService(f"the service started but {path} does not answer")
        if met.version == mine:
            return met.chan, met.pid
        if met.owner != os.geteuid() or attempt:
            met.chan.close()
            raise Refused(
                f"the cairn service on {path} (pid {met.pid}, uid {met.owner}) runs cairn"
                f" {met.version} and this is cairn {mine}: its owner must restart it"
                " (cairn stop service, or systemctl restart cairn-watch)"
            )
        print(
            f"warning - restarting the cairn service (pid {met.pid}): it runs cairn"
            f" {met.version}, this is cairn {mine}",
            file=sys.stderr,
        )
        stop(met.chan, say=_say)
    raise AssertionError("unreachable")


def _say(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _hello(path: str, env: dict[str, str]) -> Met | None:
    try:
        return hello(path, env)
    except Unreachable as exc:
        raise NoService(str(exc)) from None


def start_service(path: str) -> None:
    """Starts `cairn watch` for this caller in the background and waits until
    it listens on `path`; its log goes beside the socket."""
    import subprocess

    _private_dir(os.path.dirname(path))
    log_path = path + ".log"
    code = (
        "import sys; from cairn.service.client import main;"
        f" sys.exit(main(['watch', 'idle={ON_DEMAND_IDLE_S}']))"
    )
    with open(open_private(log_path), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            env={**os.environ, "CAIRN_SOCKET": path},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if os.path.exists(path) and _answers(path):
            return
        if proc.poll() not in (None, 0):
            raise NoService(f"it exited with status {proc.returncode}; see {log_path}")
        time.sleep(0.01)
    raise NoService(f"it did not listen on {path} within {START_TIMEOUT_S:g} s; see {log_path}")


def _answers(path: str) -> bool:
    try:
        chan = open_channel(path)
    except Unreachable:
        return False
    if chan is None:
        return False
    chan.close()
    return True


def _private_dir(directory: str) -> None:
    """The socket's directory: this user's, closed to everyone else (one
    named by CAIRN_SOCKET is the caller's choice; the socket is 0600)."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
    except OSError as exc:
        raise NoService(f"cannot make {directory}: {exc.strerror}") from None
    if os.environ.get("CAIRN_SOCKET"):
        return
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise NoService(f"{directory} must belong to uid {os.geteuid()} with mode 0700")


def _take_over(path: str, env: dict[str, str]) -> None:
    """`cairn watch` (for good: no idle=) replaces a service of this user
    already on its socket (one a command started on demand, or of another
    cairn version), once that one has finished what it runs; another user's
    is left alone."""
    met = _hello(path, env)
    if met is None:
        return
    if met.owner != os.geteuid():
        met.chan.close()
        raise Refused(f"a cairn service of uid {met.owner} (pid {met.pid}) already serves {path}")
    print(
        f"warning - taking over from the cairn service (pid {met.pid}) on {path},"
        " once it has finished what it runs",
        file=sys.stderr,
    )
    stop(met.chan, say=lambda text: print(text, end="", file=sys.stderr))


def _serve(words: list[str]) -> int:
    """`cairn watch`: be the service for this caller's database, in the foreground."""
    import logging
    import signal

    from cairn.cli.main import find
    from cairn.cli.parse import parse
    from cairn.service.server import Occupied, Service

    command, title, rest = find(words)
    a = parse(command, title, rest)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    env = key_env()
    path = socket_path(env)
    try:
        _private_dir(os.path.dirname(path))
    except NoService as exc:
        raise CairnError(str(exc)) from None
    deadline = time.monotonic() + a["seconds"] if a["seconds"] else None
    # A command that comes while the old service stops finds no socket and
    # starts one on demand: that one is taken over in its turn.
    made: list[Service] = []

    def on_signal(signum: int, _frame: object) -> None:
        if not made:  # still waiting for the service it takes over from
            raise SystemExit(0)
        made[-1].stop(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    for _attempt in range(TAKE_OVER_TRIES):
        if not a["idle"]:  # one started on demand (idle=) leaves a running one be
            _take_over(path, env)
        made.append(Service(path, env, refresh=a["refresh"], idle=a["idle"], watch=a["watch"]))
        try:
            made[-1].serve(until=(lambda: time.monotonic() >= deadline) if deadline else None)
        except Occupied:
            continue
        return 0
    raise CairnError(f"another cairn service took {path} each time this one was to: try again")
