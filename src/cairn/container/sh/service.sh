# shellcheck shell=sh disable=SC2154
# cairn-container.service installed and started.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# cairn-container.service runs `cairn container boot` once libvirtd runs and
# `cairn container shutdown` before it stops, so VMs survive a restart of the node.
if [ "$cairn_init" = none ]; then
  echo "cairn: no systemd here: nothing runs cairn container boot/shutdown at boot" \
    "and shutdown; run them yourself"
else
  cairn_install_unit cairn-container.service "$cairn_unit"
  if [ "$cairn_init" = systemd ] && ! systemctl is-active --quiet cairn-container.service; then
    if [ -x "$cairn_command" ]; then
      systemctl start cairn-container.service
      cairn_changed "started cairn-container.service"
    else
      echo "cairn: $cairn_command is not on this node (yet):" \
        "cairn-container.service will fail until it is" >&2
    fi
  elif [ "$cairn_init" = offline ] && [ "$cairn_live" = yes ]; then
    echo "cairn: systemd does not run this machine: cairn-container.service is enabled" \
      "for when it does; until then nothing runs cairn container boot/shutdown"
  fi
fi
