"""Which command prefixes the attribute `network_command` may name, and the argv
prefix one makes for a host.

`network_command` is data that anyone who can write the database controls, and
`sync host network` runs it as root: a free-form prefix would run any program.
So the prefix must be one of a fixed list, checked when the attribute is set
(cairn.attrcheck) and again before anything runs (cairn.container.netsync):

- nothing: run here (the default for this machine);
- `ssh {host}` and `ssh -o BatchMode=yes {host}` (the default for other hosts);
- `ip netns exec {host}` or `ip netns exec NAME` (a network namespace here);
- the templates the administrator's config file lists, word for word:
  `network_commands = ["ssh -i /root/.ssh/net {host}"]` (cairn.config).

`{host}` becomes the host's name, which must be a DNS name (so it cannot be
read as an option of ssh or ip). What belongs here: the list and the checks;
running commands belongs to cairn.container.netsync.
"""

from __future__ import annotations

import re
import shlex

from cairn.errors import CairnError

CONFIG_KEY = "network_commands"
DEFAULT_REMOTE = "ssh -o BatchMode=yes {host}"
BUILT_IN = ("ssh {host}", DEFAULT_REMOTE, "ip netns exec {host}")
# ip netns exec NAME: a namespace name, never an option or a path.
_NETNS = re.compile(r"ip netns exec [A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})")


def _words(template: str, what: str) -> list[str]:
    try:
        return shlex.split(template)
    except ValueError as exc:
        raise CairnError(f"{what}: {template!r} is not a command prefix ({exc})") from None


def configured() -> tuple[str, ...]:
    """The templates the administrator's config file adds."""
    from cairn.config import config, config_path

    extra = config().get(CONFIG_KEY, [])
    if not isinstance(extra, list) or not all(isinstance(t, str) for t in extra):
        raise CairnError(
            f'{CONFIG_KEY} in {config_path()} must be a list of command prefixes, such as ["ssh'
            ' -i /root/.ssh/net {host}"]'
        )
    return tuple(extra)


def check(template: str, what: str) -> list[str]:
    """The words of `template` if it is an allowed prefix; else CairnError saying how to
    allow it."""
    words = _words(template, what)
    joined = " ".join(words)
    if not words or joined in BUILT_IN or _NETNS.fullmatch(joined):
        return words
    if any(_words(allowed, CONFIG_KEY) == words for allowed in configured()):
        return words
    from cairn.config import config_path

    raise CairnError(
        f"{what}: {template!r} is not a command prefix cairn may run (it would run as root);"
        f" use {', '.join(repr(t) for t in BUILT_IN)} or 'ip netns exec NAME', or an"
        f" administrator may allow it with {CONFIG_KEY} = [{joined!r}] in {config_path()}"
    )


def prefix_for(template: str, host: str) -> list[str]:
    """The argv prefix of an allowed `network_command` template for `host`."""
    words = check(template, f"network_command of {host}")
    if words and not _HOST.fullmatch(host):
        raise CairnError(f"host name {host!r} cannot be put in a command: it is not a DNS name")
    return [w.replace("{host}", host) for w in words]
