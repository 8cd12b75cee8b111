# shellcheck shell=sh
# The bridges script's function (installed as /etc/cairn/network.sh): one
# call per bridge, its arguments quoted variables of the values block.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# These lines, down to the first blank one, are not copied into profiles.

# cairn_net BRIDGE PORT KIND PARENT ID LOCAL PEERS ADDRESS
cairn_net() {
  if ! ip link show dev "$1" >/dev/null 2>&1; then
    ip link add name "$1" type bridge
    cairn_changed "bridge $1"
  fi
  ip link set dev "$1" up
  if ! ip link show dev "$2" >/dev/null 2>&1; then
    case "$3" in
      vlan) ip link add link "$4" name "$2" type vlan id "$5" ;;
      vxlan) ip link add "$2" type vxlan id "$5" local "$6" dstport 4789 ;;
      *) echo "cairn: there is no device $2 to put on bridge $1" >&2; exit 1 ;;
    esac
    cairn_changed "$3 device $2"
  fi
  if [ "$3" = vxlan ]; then
    for cairn_peer in $7; do
      if ! bridge fdb show dev "$2" | grep -q "dst $cairn_peer "; then
        bridge fdb append 00:00:00:00:00:00 dev "$2" dst "$cairn_peer"
        cairn_changed "$2 floods to $cairn_peer"
      fi
    done
  fi
  if ! ip link show dev "$2" | grep -q "master $1 "; then
    ip link set dev "$2" master "$1"
    cairn_changed "$2 on bridge $1"
  fi
  ip link set dev "$2" up
  if [ -n "$8" ]; then
    if ! ip -o addr show dev "$1" | grep -q " $8 "; then
      ip addr add "$8" dev "$1"
      cairn_changed "address $8 on $1"
    fi
    if ip -o addr show dev "$2" | grep -q " $8 "; then
      ip addr del "$8" dev "$2"
      cairn_changed "address $8 off $2"
    fi
  fi
}
