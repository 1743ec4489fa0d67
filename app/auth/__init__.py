"""Signing in: accounts and their sessions, passwords, API tokens, sign-in limits.

models.py      User (every account, with its role and unit), RecoveryCode (forgotten passwords)
operations.py  checking passwords, one-time passwords, ending sessions everywhere, API tokens
limits.py      sign-in limits per account and per address, shared by the page and the API
recovery.py    a forgotten password: a 6-digit code sent to the person, then a new password
contact.py     one's phone and the order of channels messages go by (My account, PATCH /api/v1/me)
forms.py       the sign-in, password and account forms (and EmptyForm for buttons)
routes.py      sign-in and sign-out, the password change, one's own account (on blueprint.py)
recovery_routes.py  the two pages of a forgotten password (on blueprint.py)
"""
