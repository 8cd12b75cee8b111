#!/usr/bin/env bash
# A small bootable guest from Debian packages only: the kernel of
# linux-image-cloud-amd64 and an initramfs made of busybox-static and an init
# script. Cached: a second run downloads and builds nothing.
#
#   bash scripts/guest.sh [DIR]     # DIR: /var/cache/cairn-guest by default
#
# It leaves DIR/vmlinuz and DIR/initrd.gz and prints DIR. Boot them directly
# (<os><kernel>, <initrd>, <cmdline>) with
#   console=ttyS0 quiet cairn.ip=198.18.1.5/16
# and the guest (in 64 MiB; about 10 s under TCG, see tests/testbed.py) loads virtio, sets that
# address on eth0 (lo up too), writes on its serial console
#   cairn-guest: up, address 198.18.1.5/16
# Without cairn.ip= it asks DHCP (busybox udhcpc on eth0) and says the address
# it got the same way ("none" if no answer came). Also, for network tests:
#   cairn.alias=ADDR/N[,ADDR/N...]  more addresses on eth0 (probes into other subnets),
#                                   each said: cairn-guest: also address ADDR/N
#   cairn.ping=ADDR[,ADDR...]       ping each, over and over, and say each result:
#   cairn-guest: ping 198.19.1.3 ok        (or: fail)
# writes a line holding a fresh random token at the start of its first disk
# (/dev/vda), prints that token, and then its uptime every second:
#   cairn-guest: disk token 3f2c...
#   cairn-guest: uptime 12.03
# It answers ping. Nothing is downloaded but the two Debian packages (through
# apt, from the machine's configured mirrors).
set -euo pipefail
dir=${1:-/var/cache/cairn-guest}
# The cache is this script's: another version of it builds again.
stamp=$(sha256sum "$0" | cut -c1-16)
if [ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.gz" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$dir"
  exit 0
fi
for tool in apt-get dpkg-deb gzip; do
  command -v "$tool" >/dev/null || { echo "guest: $tool is missing (apt-get install it)" >&2; exit 1; }
done
mkdir -p "$dir"
work=$(mktemp -d "$dir/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cd "$work"

# The versioned kernel package that linux-image-cloud-amd64 depends on, and busybox-static.
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
  sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
if [ -z "$kernel_pkg" ]; then
  echo "guest: apt knows no linux-image-cloud-amd64 (apt-get update?)" >&2
  exit 1
fi
# _apt cannot write into a root-only dir: download as root, quietly.
apt-get download -q "$kernel_pkg" busybox-static >/dev/null 2>&1 ||
  apt-get download "$kernel_pkg" busybox-static
dpkg-deb -x ./"$kernel_pkg"_*.deb kernel
dpkg-deb -x ./busybox-static_*.deb busybox

root=initramfs
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp busybox/bin/busybox "$root/bin/busybox"
for mod in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
  failover net_failover virtio_net virtio_blk; do
  found=$(find kernel/lib/modules -name "$mod.ko" | head -n 1)
  [ -n "$found" ] || { echo "guest: the kernel package has no $mod.ko" >&2; exit 1; }
  cp "$found" "$root/lib/modules/"
done
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Each module after those it needs.
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
  failover net_failover virtio_net virtio_blk; do
  insmod "/lib/modules/$m.ko"
done
addr=
aliases=
pings=
for word in $(cat /proc/cmdline); do
  case "$word" in
    cairn.ip=*) addr=${word#cairn.ip=} ;;
    cairn.alias=*) aliases=${word#cairn.alias=} ;;
    cairn.ping=*) pings=${word#cairn.ping=} ;;
  esac
done
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -n "$addr" ]; then
  ip addr add "$addr" dev eth0
fi
ip link set eth0 up
if [ -z "$addr" ]; then
  # No cairn.ip=: ask DHCP (the fixed lease of the frontend's dnsmasq).
  udhcpc -i eth0 -f -q -n -t 30 -T 2 -s /bin/cairn-dhcp >/dev/null 2>&1 || true
  addr=$(cat /tmp/dhcp-address 2>/dev/null || true)
fi
for a in $(echo "$aliases" | tr , ' '); do
  ip addr add "$a" dev eth0 && echo "cairn-guest: also address $a"
done
echo "cairn-guest: up, address ${addr:-none}"
if [ -n "$pings" ]; then
  while :; do
    for t in $(echo "$pings" | tr , ' '); do
      if ping -c 1 -W 1 "$t" >/dev/null 2>&1; then
        echo "cairn-guest: ping $t ok"
      else
        echo "cairn-guest: ping $t fail"
      fi
    done
    sleep 1
  done &
fi
if [ -b /dev/vda ]; then
  token=$(cat /proc/sys/kernel/random/uuid)
  printf 'cairn-guest disk token %s\n' "$token" | dd of=/dev/vda conv=fsync 2>/dev/null
  echo "cairn-guest: disk token $token"
fi
while :; do
  read -r up _ </proc/uptime
  echo "cairn-guest: uptime $up"
  sleep 1
done
EOF
# udhcpc's script: the lease's address on the interface, and noted for init.
cat >"$root/bin/cairn-dhcp" <<'EOF'
#!/bin/busybox sh
case "$1" in
  bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    echo "$ip/$mask" >/tmp/dhcp-address
    ;;
esac
EOF
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/cairn-dhcp"
# busybox's own cpio packs it (no cpio package needed).
bb=$PWD/busybox/bin/busybox
(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -9) >initrd.gz
cp kernel/boot/vmlinuz-* vmlinuz
chmod 644 vmlinuz initrd.gz
mv -f vmlinuz initrd.gz "$dir/"
echo "$stamp" >"$dir/stamp"
chmod 755 "$dir"
echo "$dir"
