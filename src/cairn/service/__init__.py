"""The cairn service: one resident process per database behind the command line.

The `cairn` command is a thin client (`client`) that sends its words over a
Unix socket to the service (`server`), which keeps the database engine, the
ORM, the plugins and the libvirt connections open, runs the watcher, and runs
each command through the same `cairn.cli.main.execute` a plain process uses.
The same socket answers HTTP with a JSON API (`api`). `address` and `wire`
are shared by both ends and import nothing heavy.
"""
