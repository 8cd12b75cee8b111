"""Benchmark: the Airboss against root's direct command.

Starts a cairn service (`cairn watch`, its own socket, a SQLite database, VM
containers on libvirt's test:///default) with the Airboss on a loopback port,
and 16 virtual clusters, each with its owner's Ed25519 key bound to its
frontend. Prints:

- the median wall time of a tenant's signed power request as a whole `cairn
  set host power VM action=on|off key=...` process, next to root's `cairn set
  host power VM action=on|off` through the same service (runs interleaved),
  and their ratio; the same for the request alone (airboss.client.call in
  this process) against root's command alone (the cairn client's code here);
- the requests per second the Airboss sustains with 16 tenants at once, each
  in its own thread sending signed requests back to back (macs: a read; power:
  on/off of its own compute). The per-key rate bound is raised for this (the
  default, 120 a minute, would be the figure otherwise).

    .venv/bin/python benchmarks/airboss.py [--runs 15] [--seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from cairn.airboss import client, keys

CAIRN = str(Path(sys.executable).parent / "cairn")
TENANTS = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(env: dict[str, str], *words: str) -> str:
    done = subprocess.run([CAIRN, *words], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"cairn {' '.join(words)} failed: {done.stderr}")
    return done.stdout


@contextlib.contextmanager
def service(env: dict[str, str], port: int) -> Iterator[None]:
    proc = subprocess.Popen(
        [CAIRN, "watch", "watch=no"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the cairn service (or its Airboss) did not start")
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait()


def build(env: dict[str, str], keydir: Path) -> list[Path]:
    run(env, "set", "network", "private", "subnet=198.18.0.0/24", "bridge=none")
    for rank in range(2):
        name = f"vm-container-0-{rank}"
        run(env, "add", "host", name, "appliance=vm-container", f"rank={rank}", "cpus=64")
        run(env, "add", "host", "interface", name, "eth0", f"ip=198.18.0.{10 + rank}",
            "subnet=private")  # fmt: skip
    run(env, "set", "attr", "kvm_connection", "test:///default")
    made = []
    for i in range(TENANTS):
        run(env, "add", "cluster", f"t{i}", "computes=1", f"subnet=198.19.{i}.0/24", "mem=64",
            "public=none")  # fmt: skip
        key = keydir / f"t{i}"
        keys.generate(key)
        run(env, "add", "host", "key", f"t{i}", f"key={key}.pub")
        made.append(key)
    return made


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def interleaved(runs: int, *jobs: Callable[[str], None]) -> list[list[float]]:
    """Each job timed `runs` times with action on, then off, alternately."""
    times: list[list[float]] = [[] for _ in jobs]
    for i in range(runs):
        for j, job in enumerate(jobs):
            action = "on" if i % 2 == 0 else "off"
            start = time.perf_counter()
            job(action)
            times[j].append(time.perf_counter() - start)
    return times


def sustained(seconds: float, work: list[Callable[[int], None]]) -> tuple[int, float]:
    """(requests, seconds) with one thread per callable, each back to back."""
    done = [0] * len(work)
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            work[i](n)
            n += 1
        done[i] = n

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(work))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=10.0)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cairn-bench-airboss-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        config = tmp / "cairn.toml"
        config.write_text(
            f'[airboss]\nlisten = "127.0.0.1:{port}"\nrequests_per_minute = 10000000\n'
        )
        env = {
            **os.environ,
            "CAIRN_DB_URL": f"sqlite:///{tmp / 'cairn.db'}",
            "CAIRN_SOCKET": str(tmp / "cairn.sock"),
            "CAIRN_CONFIG": str(config),
            "CAIRN_CA_DIR": str(tmp / "ca"),
            "CAIRN_PLUGIN_PATH": "",
        }
        os.environ.update({k: v for k, v in env.items() if k.startswith("CAIRN_")})
        keydir = tmp / "keys"
        keydir.mkdir()
        with service(env, port):
            tenants = build(env, keydir)
            where = f"127.0.0.1:{port}"
            vm = "t0-compute-0"
            tenant_words = (f"key={tenants[0]}", f"airboss={where}")
            tenant_cmd, root_cmd = interleaved(
                opts.runs,
                lambda a: run(env, "set", "host", "power", vm, f"action={a}", *tenant_words),
                lambda a: run(env, "set", "host", "power", vm, f"action={a}"),
            )
            tenant_call, root_call = interleaved(
                opts.runs,
                lambda a: client.call("power", vm, {"action": a}, key=tenants[0], address=where),
                lambda a: _root_here("set", "host", "power", vm, f"action={a}"),
            )
            t, r = median_ms(tenant_cmd), median_ms(root_cmd)
            print(f"power on/off, whole cairn processes: tenant (key=, through the Airboss) "
                  f"{t:.0f} ms, root {r:.0f} ms: ratio {t / r:.2f}")  # fmt: skip
            t, r = median_ms(tenant_call), median_ms(root_call)
            print(f"power on/off, the request alone: signed request {t:.1f} ms, root's command "
                  f"through the service {r:.1f} ms: ratio {t / r:.2f}")  # fmt: skip
            for op in ("macs", "power"):
                work = [_tenant_work(op, i, key, where) for i, key in enumerate(tenants)]
                n, secs = sustained(opts.seconds, work)
                print(f"{TENANTS} tenants, {op}: {n} requests in {secs:.1f} s: "
                      f"{n / secs:.0f} requests/s")  # fmt: skip


def _tenant_work(op: str, i: int, key: Path, where: str) -> Callable[[int], None]:
    if op == "macs":
        return lambda n: client.call("macs", f"t{i}", key=key, address=where) and None
    vm = f"t{i}-compute-0"
    return lambda n: (
        client.call("power", vm, {"action": "on" if n % 2 == 0 else "off"}, key=key, address=where)
        and None
    )


def _root_here(*words: str) -> None:
    """Root's command through the service, by the cairn client's own code."""
    from cairn.service.client import main as client_main

    with open(os.devnull, "w") as null:
        with contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
            status = client_main(list(words))
        if status != 0:
            raise SystemExit(f"cairn {' '.join(words)} failed")


if __name__ == "__main__":
    main()
