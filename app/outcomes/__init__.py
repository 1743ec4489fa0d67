"""Digital-inclusion outcomes: what residents reached, and the teams' work that got them there.

Rules and queries (plain functions, explicit arguments):

* `models.py`: households, residents, milestones and their evidence, self-assessments,
  follow-ups, campaigns and walk lists, the members' monthly ledger;
* `operations.py`: recording milestones (who may, which visit and helper may be named),
  crediting help as learning, self-assessments, follow-ups;
* `residents.py`: household lists imported by a commune, residents added by hand, linking
  accounts, the units of a person's area;
* `group_session_milestones.py`: milestones recorded in bulk for a group session's attendees;
* `campaigns.py`: door-to-door campaigns and their walk lists;
* `ledger.py`: each member's monthly figures, the ledger a person sees, closing a month;
* `indicators.py`: the figures a province reports per unit;
* `milestones.py`: the default milestones.

Pages (`blueprint.py` holds the blueprint; each route module registers on it, forms in `forms.py`):

* `resident_routes.py`: the residents list, a new resident, a resident's page and its forms;
* `import_routes.py`: the household-list import and its template;
* `follow_up_routes.py`: open follow-ups and closing them;
* `group_session_milestone_routes.py`: milestones after a group session;
* `campaign_routes.py`: campaigns, their progress and walk lists;
* `ledger_routes.py`: the ledger page, its exports and closing a month.
"""
