"""`cairn set os ...`."""
