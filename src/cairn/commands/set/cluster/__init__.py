"""`cairn set cluster ...`."""
