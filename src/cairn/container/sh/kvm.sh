# shellcheck shell=sh disable=SC2154
# /dev/kvm, the directories for disks and saved memory, libvirt-guests off.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# /dev/kvm for QEMU, which libvirt runs as an unprivileged user: open to all (as
# systemd's own udev rules make it), now and, through the udev rule, after a reboot.
cairn_put /etc/udev/rules.d/65-cairn-kvm.rules 644 'KERNEL=="kvm", GROUP="kvm", MODE="0666"'
if [ "$cairn_live" = yes ] && [ -c /dev/kvm ] && [ "$(stat -c %a /dev/kvm)" != 666 ]; then
  chmod 0666 /dev/kvm
  cairn_changed "chmod 0666 /dev/kvm"
fi
# Where VM disks and saved VM memory go (attributes kvm_disk_dir, kvm_save_dir).
for cairn_dir in "$cairn_disk_dir" "$cairn_save_dir"; do
  if [ ! -d "$cairn_dir" ]; then
    mkdir -p "$cairn_dir"
    cairn_changed "made $cairn_dir"
  fi
done
# libvirt-guests stays off: cairn-container.service saves and brings back VMs instead.
# It is not stopped here, as stopping it would suspend or shut down running VMs.
if [ "$cairn_init" != none ] &&
  [ "$(systemctl is-enabled libvirt-guests.service 2>/dev/null)" = enabled ]; then
  systemctl disable --quiet libvirt-guests.service
  cairn_changed "disabled libvirt-guests.service"
fi
