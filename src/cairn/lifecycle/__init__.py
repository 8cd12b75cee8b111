"""Driving VMs on their containers: start (allocate, preboot, disks, define,
launch), stop (and disallocate), pause, resume, save, restore, move.

Commands call these; the libvirt side is `cairn.hypervisor`, the XML is
`cairn.vms.config`, the plugins are `cairn.plugins`.
"""
