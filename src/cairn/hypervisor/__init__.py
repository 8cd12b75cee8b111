"""The only package that imports libvirt.

Connections (one per container URI, reused within a command), domain states,
lifecycle verbs, storage volumes and events. libvirt errors are classified by
their error code, never by message text.
"""
