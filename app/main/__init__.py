"""The home page of each role and the text-size preference (routes.py, on
blueprint.py)."""
