#!/usr/bin/env bash
# The main job on the embedded defaults (SQLite in /var/lib/cairn for root):
# build a small cluster inventory with attributes at every scope, turn this
# machine into a VM container (kvm=true), and boot a real KVM virtual machine
# on it with the seed's features (a CDROM first in the boot order, vcpu
# pinning, an extra serial device, autostart); show it, its domain XML and what
# its firmware printed, then stop it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh libvirt >/dev/null
export PATH="$PWD/.venv/bin:$PATH"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
exists() { cairn list host "$1" >/dev/null 2>&1; }

cairn init
# Start from a clean demo: stop and forget what an earlier run made.
if exists demo-vm; then cairn stop host vm demo-vm >/dev/null || true; cairn remove host demo-vm; fi
for h in vm-container-0-0 vm-container-0-1 compute-0-0 compute-0-1; do
  if exists "$h"; then cairn remove host "$h"; fi
done
cairn list network output-header=no | grep -q '^demo ' ||
  cairn add network demo subnet=10.3.0.0/16 bridge=br-demo  # apart from private (10.1.0.0/16)

echo "== The cluster inventory"
say cairn add host vm-container-0-0 appliance=vm-container rack=0 rank=0 cpus=16
say cairn add host vm-container-0-1 appliance=vm-container rack=0 rank=1 cpus=16
say cairn add host compute-0-0 appliance=compute rack=0 rank=0 cpus=8
say cairn add host compute-0-1 appliance=compute rack=0 rank=1 cpus=8
say cairn add host interface vm-container-0-0 eth0 mac=52:54:00:de:00:01 ip=10.3.255.250 subnet=demo
say cairn set attr kvm_connection 'qemu+ssh://{host}/system'      # global scope
say cairn set os attr linux ssh_port 22                             # os scope
say cairn set appliance attr compute kvm true                       # appliance scope
say cairn set host attr compute-0-1 kvm false                       # host scope wins
say cairn list host
say cairn list host attr compute-0-1
say cairn list host attr attr=kvm

echo
echo "== A real VM on this machine"
say cairn set host attr localhost kvm true
say cairn set host attr localhost kvm_connection qemu:///system
iso=/var/lib/libvirt/images/cairn-demo.iso
serial=/var/lib/libvirt/images/demo-vm.serial.log
tmp=$(mktemp -d); echo "cairn demo" > "$tmp/README"; genisoimage -quiet -o "$iso" "$tmp"; rm -r "$tmp"
rm -f "$serial"
say cairn add host vm localhost name=demo-vm mem=256 cpus=2 disksize=1
say cairn set host vm cdrom demo-vm cdrom="$iso"
say cairn set host attr demo-vm kvm_cpu_pinning pin_all
say cairn set host attr demo-vm kvm_device_0 "<serial type='file'><source path='$serial'/></serial>"
say cairn set host attr demo-vm kvm_bios_useserial true
say cairn set host attr demo-vm kvm_autostart true
# Nested KVM (as on CI machines) cannot run host-passthrough guests: let QEMU pick.
say cairn set host attr demo-vm cpu_mode none
say cairn report host vm config demo-vm
say cairn start host vm demo-vm
say cairn list host vm status=yes
printf '\nWaiting for the firmware to try the CDROM, then the network...\n'
for _ in $(seq 300); do grep -qa "Booting from ROM" "$serial" 2>/dev/null && break; sleep 0.2; done
say grep -a "Booting" "$serial"
say virsh -c qemu:///system vcpupin demo-vm
say cairn stop host vm demo-vm
say cairn list host vm status=yes
