#!/usr/bin/env bash
# Idempotent set-up: the Debian packages cairn needs, a virtual environment in
# .venv, and cairn installed into it from the locked requirements. A second
# run finds everything in place and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  libvirt-daemon-system libvirt-clients libvirt-dev pkg-config gcc python3-dev
  qemu-system-x86 qemu-utils ipxe-qemu libxml2-utils genisoimage
  systemd  # systemd-analyze verifies the units cairn writes; nothing here runs systemd
  dnsmasq-base pxelinux syslinux-common  # DHCP and PXE from the database (sync config)
  busybox-static iproute2  # tests: DHCP client, ping and TFTP in network namespaces
  socat  # tests: the testbed's frontends reach PostgreSQL through a relay socket
  shellcheck  # lint: the profile's shell parts (src/cairn/container/sh) and scripts/*.sh
  chromium  # tests: the web page in a real browser (Playwright drives /usr/bin/chromium)
)
PYTHON=${PYTHON:-python3}

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "cairn needs Python 3.11+"'
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.cairn-installed
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing locked Python requirements into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
fi

# The testbed's small guest (tests/testbed.py): a kernel from linux-image-cloud-amd64 and a
# busybox-static initramfs, built once into /var/cache/cairn-guest. The kernel package is
# only downloaded (apt-get download), never installed on this machine.
if [ "$(id -u)" -eq 0 ] && [ -z "${CAIRN_NO_GUEST:-}" ]; then
  bash scripts/guest.sh >/dev/null || echo "setup: could not build the testbed's guest (scripts/guest.sh)" >&2
fi
