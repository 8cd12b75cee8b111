"""The schema revision this cairn expects: the newest migration in migrations/versions.

A module of its own, free of imports, so that reading it costs nothing. A
test keeps it in step with the migrations.
"""

HEAD = "0007_dhcp_server"
