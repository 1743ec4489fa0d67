"""The home page of each role, the text-size preference and the health check (routes.py, on
blueprint.py)."""
