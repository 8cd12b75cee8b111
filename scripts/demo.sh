#!/usr/bin/env bash
# The main job on the embedded defaults (SQLite in /var/lib/cairn for root,
# the XDG data dir otherwise): build a small cluster inventory with attributes
# at every scope, then show it the ways an administrator would look at it.
# Safe to run again: it replaces the demo hosts it made before.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cairn init
for h in vm-container-0-0 vm-container-0-1 compute-0-0 compute-0-1; do
  if cairn list host "$h" >/dev/null 2>&1; then cairn remove host "$h"; fi
done
cairn list network demo >/dev/null 2>&1 || true
if ! cairn list network output-header=no | grep -q '^demo '; then
  cairn add network demo subnet=10.1.0.0/16 bridge=br-demo
fi

say cairn add host vm-container-0-0 appliance=vm-container rack=0 rank=0 cpus=16
say cairn add host vm-container-0-1 appliance=vm-container rack=0 rank=1 cpus=16
say cairn add host compute-0-0 appliance=compute rack=0 rank=0 cpus=8
say cairn add host compute-0-1 appliance=compute rack=0 rank=1 cpus=8
say cairn add host interface vm-container-0-0 eth0 mac=52:54:00:de:00:01 ip=10.1.255.250 subnet=demo
# Attributes at every scope: global, os, appliance, host (the most specific wins).
say cairn set attr kvm_connection 'qemu+ssh://{host}/system'
say cairn set os attr linux ssh_port 22
say cairn set appliance attr compute kvm true
say cairn set host attr compute-0-1 kvm false
say cairn set host attr vm-container-0-0 kvm_cpu_pinning value='<cputune> <vcpupin vcpu="0" cpuset="4"/> </cputune>'

say cairn list host
say cairn list host interface
say cairn list appliance
say cairn list host attr compute-0-1
say cairn list host attr attr=kvm
say cairn report host attr vm-container-0-0 attr=kvm_cpu_pinning
say cairn dump host attr vm-container-0-0
