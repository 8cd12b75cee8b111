"""The frontend's SSH public key, which qemu+ssh:// containers must accept.

It is the key of the user running cairn (root on a frontend): the first of
~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub. When there is none, one is
made with ssh-keygen (ed25519, no passphrase: cairn connects unattended) and
the caller is told. Not here: how a node installs it (profile.py).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cairn.errors import CairnError

NAMES = ("id_ed25519", "id_ecdsa", "id_rsa")
_KEY = re.compile(
    r"^(?P<id>(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)"
    r"|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3})(?: [^\x00-\x1f\x7f]*)?$"
)


@dataclass(frozen=True)
class PublicKey:
    line: str  # as in the .pub file: type, key and comment
    ident: str  # type and key: what says the key is already authorized
    path: Path
    generated: bool


def parse(line: str, path: Path) -> tuple[str, str]:
    """(line, type + key) of one public key line, or an error naming the file."""
    line = line.strip()
    found = _KEY.fullmatch(line)
    if found is None:
        raise CairnError(f"{path} is not an SSH public key of one line (type, key, comment)")
    return line, found.group("id")


def frontend_key(home: Path | None = None, *, create: bool = True) -> PublicKey:
    """This user's public key, made with ssh-keygen if there is none (and `create`)."""
    ssh = (home or Path.home()) / ".ssh"
    found = _existing(ssh)
    if found is not None:
        return found
    if not create:
        raise CairnError(
            f"there is no SSH key in {ssh} for cairn's qemu+ssh:// connections yet:"
            " make it with 'cairn create keys' (or ssh-keygen)"
        )
    try:
        ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(ssh, os.O_RDONLY | os.O_DIRECTORY)  # the lock: no file left behind
    except OSError as exc:
        raise CairnError(f"cannot make an SSH key in {ssh}: {exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two cairns at once make one key, not two
        found = _existing(ssh)
        if found is not None:
            return found
        _keygen(ssh / NAMES[0])
    finally:
        os.close(fd)
    made = _existing(ssh)
    if made is None:  # pragma: no cover - ssh-keygen said it succeeded
        raise CairnError(f"ssh-keygen made no {ssh / NAMES[0]}.pub")
    return PublicKey(made.line, made.ident, made.path, generated=True)


def _existing(ssh: Path) -> PublicKey | None:
    for name in NAMES:
        path = ssh / f"{name}.pub"
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise CairnError(f"cannot read {path}: {exc}") from None
        line, ident = parse(text, path)
        return PublicKey(line, ident, path, generated=False)
    return None


def _keygen(private: Path) -> None:
    program = shutil.which("ssh-keygen")
    if program is None:
        raise CairnError(
            f"there is no SSH key in {private.parent} and no ssh-keygen to make one;"
            " install openssh-client or make a key yourself"
        )
    comment = f"cairn@{socket.gethostname().split('.')[0]}"
    done = subprocess.run(
        [program, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise CairnError(f"ssh-keygen could not make {private}: {done.stderr.strip()}")
