"""Services over the cluster inventory: appliances, OSes, hosts, networks, interfaces.

Commands call these; they raise CairnError subclasses with one-line messages
and never print.
"""
