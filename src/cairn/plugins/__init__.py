"""Site plugins: discovery in the plugin dirs, safe loading, invocation.

A plugin is a Python file with a fixed name (`plugin_allocate.py`, ...) under
`<plugin dir>/<command words>/`; names are matched exactly, never by
substring. Plugin dirs: CAIRN_PLUGIN_PATH (colon-separated), then
/etc/cairn/plugins. The hooks and their arguments are documented in `hooks`.
"""
