"""`cairn set appliance ...`."""
