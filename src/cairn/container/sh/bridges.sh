# shellcheck shell=sh disable=SC2154
# The bridges script ($cairn_net_script) installed, run now and at every boot.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# Bridges for VMs: $cairn_net_file makes them (cairn sync host network does the same
# from the frontend), now and, through cairn-network.service, at every boot.
cairn_put "$cairn_net_file" 700 "$cairn_net_script"
if [ "$cairn_init" = none ]; then
  echo "cairn: no systemd here: run $cairn_net_file at every boot, before libvirtd"
else
  cairn_install_unit cairn-network.service "$cairn_net_unit"
fi
if [ "$cairn_live" = yes ]; then
  cairn_net_out=$(sh "$cairn_net_file")
  if [ -n "$cairn_net_out" ]; then
    printf '%s\n' "$cairn_net_out"
    cairn_changes="$cairn_changes|bridges"
  fi
fi
