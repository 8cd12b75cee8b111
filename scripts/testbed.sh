#!/usr/bin/env bash
# A cluster on one machine, for trying cairn and for its system tests: a frontend
# and N VM containers (4 by default), each in network, mount, UTS and PID
# namespaces of its own, with its own libvirtd reached over TLS. As root.
#
#   bash scripts/testbed.sh up [N]        # make it (a second `up` reuses it)
#   bash scripts/testbed.sh status        # does each container answer over TLS?
#   bash scripts/testbed.sh cairn list host vm status=yes   # cairn on its frontend
#   bash scripts/testbed.sh enter vm-container-0-1          # a shell in one part
#   bash scripts/testbed.sh down          # remove all of it (also after a failed up)
#
# It lives in $CAIRN_TESTBED_DIR (/var/lib/cairn-testbed); the machine's own
# libvirtd, interfaces and files are left alone. See tests/testbed.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "error - $root/.venv is missing: run bash scripts/setup.sh first" >&2
  exit 1
fi
exec "$root/.venv/bin/python" "$root/tests/testbed.py" "$@"
