#!/usr/bin/env bash
# Sets up everything and runs the whole test suite: lint, types, tests on
# SQLite, PostgreSQL and MariaDB, and system tests on a real libvirtd with
# QEMU/KVM. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" -eq 0 ]; then
  exports=$(bash scripts/services.sh)  # a failure here stops the run (set -e)
  eval "$exports"
else
  echo "test: not root, so PostgreSQL and libvirtd are not started; those tests skip" >&2
fi
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check --quiet src tests benchmarks
.venv/bin/mypy
shellcheck src/cairn/container/sh/*.sh scripts/*.sh
# Two workers (pytest-xdist): one runs the system tests, in order (one scope,
# tests/workers.py), the other the unit tests, module by module, and both
# share the modules that are left. `-n 0` among the arguments runs serially.
exec .venv/bin/pytest -n 2 --dist loadscope --no-loadscope-reorder "$@"
