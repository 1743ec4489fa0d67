"""People: accounts managed by administrators and commune managers, and the assisted accounts a
tech-team member opens for a resident without e-mail.

operations.py  the people one may see, creating and changing accounts, phone and e-mail checks,
               the unit levels each role belongs at
forms.py       the account forms
routes.py      the people pages (on blueprint.py)
cli.py         `flask users create`
"""
