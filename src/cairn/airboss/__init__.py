"""The Airboss: virtual clusters driven by their owners, beside `cairn.service`.

A tenant holds a private key whose public half root bound to the frontend VM
of a virtual cluster; with it the tenant powers, installs, opens the consoles
of, changes the CDROM of and lists the MACs of that cluster's VMs, and nothing
else. What belongs here: tenant keys (`keys`), the signed request and its
framing (`envelope`), THE one check of who may touch which VM (`checks`), the
server that runs accepted requests through the service's commands, and the
tenant's client. Nothing below the service may import this package; the
tenant side of a `key=` command imports only `client` (and what it needs).
"""
