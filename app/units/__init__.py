"""The unit tree: province > commune or ward > village or residential group.

models.py      Unit, with its path for subtree queries
operations.py  looking a unit up by code (one guard for every door), the unit an area page shows,
               reading the tree, importing a unit file (codes checked), building paths,
               checking the stored tree
forms.py       the import form
routes.py      the unit pages (on blueprint.py)
cli.py         `flask units import`, `flask units check`
"""
