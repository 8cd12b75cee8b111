"""attrs package."""
