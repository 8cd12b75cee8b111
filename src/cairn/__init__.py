"""Cairn: run virtual machines across a cluster (a Rocks KVM-roll successor).

Nothing heavy is imported here: `cairn help` must stay fast.
"""

__version__ = "0.1.0"
