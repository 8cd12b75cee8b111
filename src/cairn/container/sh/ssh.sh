# shellcheck shell=sh disable=SC2154
# A container reached through qemu+ssh://: the frontend's key in root's
# authorized_keys.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# SSH (kvm_connection qemu+ssh://): the frontend's key may log in as root.
cairn_keys=/root/.ssh/authorized_keys
if [ ! -d /root/.ssh ]; then
  mkdir -m 700 /root/.ssh
fi
if ! grep -qF -- "$cairn_ssh_key_id" "$cairn_keys" 2>/dev/null; then
  if [ -s "$cairn_keys" ] && [ -n "$(tail -c 1 "$cairn_keys")" ]; then
    echo >>"$cairn_keys"
  fi
  printf '%s\n' "$cairn_ssh_key" >>"$cairn_keys"
  chmod 600 "$cairn_keys"
  cairn_changed "authorized the frontend's key in $cairn_keys"
  if command -v restorecon >/dev/null 2>&1; then
    restorecon -R /root/.ssh
  fi
fi
