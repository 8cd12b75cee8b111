"""Batch mode against the lines run one at a time: random batches (seeded)
from a grammar of realistic lines run as one batch through a real cairn
service, and line after line as their own `cairn` commands against a second
database, stopping at the first failure as a batch does. The output, the
exit status and the database (`cairn dump`) must be the same.

CAIRN_FUZZ_SEED and CAIRN_FUZZ_ROUNDS run other or more batches (to look for
trouble by hand); the defaults keep the test under a minute a backend.
"""

from __future__ import annotations

import os
import random
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from conftest import Services, client_env
from testkit import CAIRN, new_database

SEED = int(os.environ.get("CAIRN_FUZZ_SEED", "19"))
ROUNDS = int(os.environ.get("CAIRN_FUZZ_ROUNDS", "10"))
LINES = 30  # at most, a batch

HOSTS = [f"compute-0-{i}" for i in range(3)]  # there from the start
NEW_HOSTS = ["compute-0-3", "compute-0-4"]  # added and removed by the batches
SPECS = [*HOSTS, *HOSTS, "compute-0-*", "compute-0-[12]", "compute"]
# Case twins of each other, and a typed attribute (a bad value fails).
NAMES = {"colour": 12, "Colour": 1, "size": 12, "SIZE": 1, "note": 12, "kvm_autostart": 3}
VALUES = [
    "red",
    "two words",
    "it's",
    'say "hi"',
    "$HOME `id` \\n",
    "# not a comment",
    "a\nb",
    "a\rb",
    "tab\there",
    "\v\f\x1c\x1d\x1e",
    "\x85\u2028\u2029",
    "café",
    "&<>",
    "",
    "yes",
]
IFACES = ["eth0", "eth1"]


def _word(rng: random.Random, word: str) -> str:
    """`word` quoted as a person or a dump might write it, meaning the same to sh."""
    if word and all(c.isalnum() or c in "-_.=/:" for c in word) and rng.random() < 0.5:
        return word
    if word and not any(c in word for c in '"\\$`') and rng.random() < 0.3:
        return f'"{word}"'
    return shlex.quote(word)


def _words(rng: random.Random) -> list[str]:
    """One command line's words: mostly a dump's attribute and host lines,
    some that fail (case twins, no match, bad values, unknown commands)."""
    host, spec = rng.choice(HOSTS), rng.choice(SPECS)
    name = rng.choices(list(NAMES), weights=list(NAMES.values()))[0]
    value = rng.choice(VALUES)
    if name == "kvm_autostart" and rng.random() < 0.8:
        value = rng.choice(["yes", "no", "True", "0"])
    kind = rng.choices(
        ["set", "add", "remove", "scope", "host", "iface", "drop", "list", "bad"],
        weights=[50, 3, 2, 6, 3, 2, 2, 2, 1],
    )[0]
    if kind == "set":
        return ["set", "host", "attr", spec, name, value]
    if kind == "add":
        return ["add", "host", "attr", spec, name, value]
    if kind == "remove":
        return ["remove", "host", "attr", spec, name]
    if kind == "scope":
        return rng.choice(
            [
                ["set", "attr", name, value],
                ["set", "appliance", "attr", "compute", name, value],
                ["set", "os", "attr", "linux", f"attr={name}", f"value={value}"],
            ]
        )
    if kind == "host":
        new = rng.choice(NEW_HOSTS)
        return ["add", "host", new, "appliance=compute", f"rack={rng.randrange(2)}"]
    iface = rng.randrange(len(IFACES))
    if kind == "iface":
        mac = f"mac=52:54:00:00:{HOSTS.index(host) if host in HOSTS else 9:02x}:{iface:02x}"
        return ["add", "host", "interface", host, IFACES[iface], mac]
    if kind == "drop":
        return rng.choice(
            [
                ["remove", "host", rng.choice(NEW_HOSTS)],
                ["remove", "host", "interface", host, IFACES[iface]],
            ]
        )
    if kind == "list":
        return rng.choice(
            [["list", "host", "attr", host, "output-header=no"], ["list", "host", "interface"]]
        )
    return rng.choice(
        [
            ["set", "host", "rack", host, "notanumber"],
            ["frobnicate", "host"],
            ["add", "host"],
            ["set", "host", "attr", "nomatch-*", name, value],
        ]
    )


@dataclass
class Line:
    number: int  # of its first line in the batch text
    words: list[str]


def _batch(rng: random.Random) -> tuple[str, list[Line]]:
    """A batch's text, and each command in it with its line number."""
    text, lines = "", []
    for _ in range(rng.randrange(1, LINES + 1)):
        if rng.random() < 0.05:
            text += rng.choice(["\n", "# a comment 'with a quote\n", "   \n"])
        words = _words(rng)
        lines.append(Line(text.count("\n") + 1, words))
        rendered = " ".join(_word(rng, w) for w in words)
        text += ("cairn " if rng.random() < 0.2 else "") + rendered
        text += "  # why\n" if rng.random() < 0.05 else "\n"
    return text, lines


def _cairn(
    services: Services, url: str, sock: Path, *words: str, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    services.sockets.append(sock)
    return subprocess.run(
        [CAIRN, *words], env=client_env(url, sock), capture_output=True, input=input, timeout=120
    )


def _one_at_a_time(
    services: Services, url: str, sock: Path, lines: list[Line]
) -> tuple[int, bytes, bytes]:
    """What the batch should give: each line its own command, up to the first
    that fails, whose error names its line."""
    out, err, code = b"", b"", 0
    for line in lines:
        done = _cairn(services, url, sock, *line.words)
        out, code = out + done.stdout, done.returncode
        if code:
            where = f"error - line {line.number}: ".encode()
            err += done.stderr.replace(b"error - ", where, 1)
            break
        err += done.stderr
    return code, out, err


def test_a_random_batch_does_what_its_lines_do_one_at_a_time(
    db_url: str, services: Services, tmp_path: Path
) -> None:
    backend = db_url.split(":")[0].split("+")[0]
    (tmp_path / "alone").mkdir()
    batched, alone = tmp_path / "batched.sock", tmp_path / "alone.sock"
    with new_database(backend, tmp_path / "alone") as alone_url:
        for url, sock in ((db_url, batched), (alone_url, alone)):
            services.start(url, sock, "watch=no")
            assert _cairn(services, url, sock, "init").returncode == 0
            for host in HOSTS[:3]:
                added = _cairn(services, url, sock, "add", "host", host, "appliance=compute")
                assert added.returncode == 0, added.stderr
        # Both databases stay the same from round to round (that is checked).
        for n in range(ROUNDS):
            rng = random.Random(f"{SEED}-{n}")
            text, lines = _batch(rng)
            got = _cairn(services, db_url, batched, input=text.encode())
            expected = _one_at_a_time(services, alone_url, alone, lines)
            seed = f"CAIRN_FUZZ_SEED={SEED} round {n}; the batch:\n{text}"
            assert (got.returncode, got.stdout, got.stderr) == expected, seed
            dumps = [
                _cairn(services, u, s, "dump") for u, s in ((db_url, batched), (alone_url, alone))
            ]
            assert dumps[0].returncode == 0 and dumps[0].stdout == dumps[1].stdout, seed
