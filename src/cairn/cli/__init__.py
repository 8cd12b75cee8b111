"""The command line: words -> command + args/params, help, rendering, exit codes.

The only package that prints or exits. It must stay light to import:
`cairn help` and a mistyped command never import libvirt or the ORM.
"""
