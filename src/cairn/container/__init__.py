"""What runs on a VM container, needing no database: clean shutdown and boot of
its VMs (`cairn container shutdown|boot`), and the profile that makes a node a
container (`cairn report host profile`).
"""
