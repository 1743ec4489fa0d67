"""The audit log: sign-ins, account changes, imports, closed months and visits booked outside a
member's hours; never passwords or tokens.

models.py      AuditEvent and the titles of its actions
operations.py  record(), called in the transaction of what it records
routes.py      the log page for administrators (on blueprint.py)
"""
