"""The web page of the cairn service (Pilot): the cluster at a glance and a VM's controls.

It lives beside `service/` and is served by the service itself when the
config file turns it on (`listener`). Every action runs an existing command
through the service (`commands`), reads come from the same commands' rows,
and live states come from the watcher's news (`cairn.lifecycle.news`). The
thin `cairn` client imports none of it; `links` is the one light module,
for `cairn report web`.
"""
