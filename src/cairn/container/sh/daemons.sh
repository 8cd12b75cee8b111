# shellcheck shell=sh disable=SC2154
# libvirtd (and virtlogd) running, with TLS when it is asked for.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# libvirtd now. Under systemd, a TLS change means restarting libvirtd, which takes its
# sockets from systemd only when it starts. Without systemd this script starts the
# daemons itself (nothing starts them at boot); with TLS libvirtd needs --listen.
# Running VMs go on while libvirtd restarts. Only this machine's own daemons count,
# not those in PID namespaces below this one (a testbed's containers, LXC), which a
# plain pgrep or pkill would see and kill too.
cairn_pgrep() { pgrep --ns $$ --nslist pid "$@"; }
cairn_wait() {
  cairn_i=0
  while ! eval "$1"; do
    cairn_i=$((cairn_i + 1))
    if [ "$cairn_i" -gt 300 ]; then
      echo "cairn: timed out waiting for: $1" >&2
      exit 1
    fi
    sleep 0.1
  done
}
if [ "$cairn_live" = yes ] && [ "$cairn_init" = systemd ]; then
  if [ "$cairn_tls" = yes ]; then
    if [ -n "$cairn_tls_changed" ] || ! systemctl is-active --quiet libvirtd-tls.socket; then
      systemctl stop libvirtd.service
      systemctl restart libvirtd-tls.socket
      systemctl start libvirtd.service
      cairn_changed "restarted libvirtd with TLS"
    fi
  fi
elif [ "$cairn_live" = yes ]; then
  if ! cairn_pgrep -x virtlogd >/dev/null; then
    virtlogd -d
    cairn_changed "started virtlogd"
  fi
  if [ "$cairn_tls" = yes ]; then
    if cairn_pgrep -x libvirtd >/dev/null; then
      if [ -n "$cairn_tls_changed" ] || ! cairn_pgrep -a -x libvirtd | grep -q -- ' --listen'; then
        pkill --ns $$ --nslist pid -x libvirtd
        cairn_wait '! cairn_pgrep -x libvirtd >/dev/null'
        libvirtd -d --listen
        cairn_changed "restarted libvirtd -d --listen"
      fi
    else
      libvirtd -d --listen
      cairn_changed "started libvirtd -d --listen"
    fi
  elif ! cairn_pgrep -x libvirtd >/dev/null; then
    libvirtd -d
    cairn_changed "started libvirtd"
  fi
  cairn_wait 'virsh -c qemu:///system version >/dev/null 2>&1'
fi
