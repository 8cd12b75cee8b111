# shellcheck shell=sh disable=SC2154
# The helpers every profile uses, after changes.sh: cairn_put, cairn_enable,
# cairn_install_unit; and which init system runs this machine ($cairn_init).
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# cairn_put PATH MODE TEXT: PATH holds TEXT and a newline, with MODE (as stat %a shows it).
cairn_put() {
  if [ -f "$1" ] && [ "$(cat "$1"; echo .)" = "$(printf '%s\n.' "$3")" ]; then
    if [ "$(stat -c %a "$1")" != "$2" ]; then
      chmod "$2" "$1"
      cairn_changed "mode $2 on $1"
    fi
    return 0
  fi
  mkdir -p "${1%/*}"
  cairn_tmp=$(mktemp "$1.cairn-XXXXXX")
  printf '%s\n' "$3" >"$cairn_tmp"
  chmod "$2" "$cairn_tmp"
  mv -f "$cairn_tmp" "$1"
  cairn_changed "wrote $1"
}
cairn_enable() {
  if [ "$(systemctl is-enabled "$1" 2>/dev/null)" != enabled ]; then
    systemctl enable --quiet "$1"
    cairn_changed "enabled $1"
  fi
}
# cairn_install_unit NAME TEXT: /etc/systemd/system/NAME holds TEXT (systemd reloaded if it
# changed and runs this machine) and NAME is enabled.
cairn_install_unit() {
  cairn_before=$cairn_changes
  cairn_put "/etc/systemd/system/$1" 644 "$2"
  if [ "$cairn_init" = systemd ] && [ "$cairn_changes" != "$cairn_before" ]; then
    systemctl daemon-reload
  fi
  cairn_enable "$1"
}
# systemd: it runs this machine, units are started now. offline: systemctl is here but
# systemd does not run (an installer's chroot, a container): units are only enabled.
if [ "$cairn_live" = yes ] && [ -d /run/systemd/system ]; then
  cairn_init=systemd
elif command -v systemctl >/dev/null 2>&1; then
  cairn_init=offline
else
  cairn_init=none
fi
