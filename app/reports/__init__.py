"""Reports: the managers' dashboards, trends, course analytics, team view and printable report,
read from summary tables kept up to date by every operation.

Data
  models.py      the summary tables (per unit and week, each unit's rows hold its whole subtree)
  summaries.py   the event hooks operations call in their own transaction to keep them up to date
  recount.py     recounting them from scratch: rebuild after bulk loads, and the check that the
                 hooks keep them equal to a recount

Figures (plain query functions returning report tables)
  tables.py      ReportTable, the one shape pages show, exports write and the API returns
  queries.py     dashboards and indicators: completion, visits, overdue assignments, help topics
  analytics.py   weekly trends, course analytics, the team view
  promise.py     help requests contacted within their team's promise to call (settled ones
                 from PromiseStat, kept on every flush; those waiting from the requests)
  digest.py      the managers' weekly digest (sent by app.jobs.reminders)
  message_costs.py  messages handed to paid channels (Zalo, SMS) per month, commune and channel,
                 priced by MESSAGE_PRICES

Output
  charts.py      server-side SVG line charts, and the two weekly trend charts
  exports.py     the one CSV/XLSX writer of every export (formula-like text kept as text), and
                 downloads of report tables

Pages (on the blueprint in blueprint.py; the JSON API is app/api/reports.py)
  dashboard_routes.py   province and commune dashboards, indicators
  trend_routes.py       trends, course analytics, team view, and the reports menu
  print_routes.py       the printable report
  message_cost_routes.py  the message cost report
  cli.py                `flask reports rebuild`
"""
