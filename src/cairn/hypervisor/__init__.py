"""The only package that imports libvirt.

Connections (one per container URI, reused within a command), domain states,
lifecycle verbs, storage volumes and events. libvirt errors are classified by
their error code, never by message text.
"""

import os

# libvirt's client library logs some failures itself, with a header, to stderr
# (a TLS certificate that fails its check is logged before the error is raised),
# which would add lines to cairn's one-line errors. Its errors still reach cairn
# as exceptions; an administrator's own LIBVIRT_LOG_OUTPUTS is kept.
os.environ.setdefault("LIBVIRT_LOG_OUTPUTS", "4:file:/dev/null")
