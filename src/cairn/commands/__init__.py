"""The command tree: the package path IS the grammar (`set/host/attr.py` is
`cairn set host attr`). Modules here import only `cairn.cli.spec` and light
helpers at import time; their work (database, libvirt) is imported in `run`.
"""
