"""`cairn list airboss ...`: what the Airboss did."""
