"""The JSON API (/api/v1) for the province's other systems: bearer tokens, JSON in and out.

blueprint.py  the blueprint; the modules below register their endpoints on it
common.py     the caller (token_required), their language, the JSON body
parsers.py    checked input: times, dates, ids, text, units named by code
auth.py units.py learning.py visits.py outcomes.py campaigns.py reports.py messages.py   the endpoints
openapi.py    the contract: an OpenAPI 3.1 document of every endpoint above
docs.py       the contract served: /api/v1/openapi.json and the page /api/v1/docs

Every rule lives in the feature's operations and app.authz, the same functions the pages call;
a refused operation becomes {"error": {"code", "message", "field"}} through app.errors.
"""
