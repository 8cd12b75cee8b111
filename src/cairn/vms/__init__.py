"""VM definitions: which container and slice, memory, disks, MACs, CDROM.

Services the `add|set|list|dump host vm` commands call; nothing here talks to
libvirt (that is `cairn.hypervisor`) or builds XML (that is `cairn.designer`).
"""
