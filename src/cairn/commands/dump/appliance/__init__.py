"""`cairn dump appliance ...`."""
