"""The fictional demo province, and synthetic data at province scale for load and benchmark work.

- cli.py: `flask demo seed` and `flask demo generate`.
- operations.py, units.csv: the demo province (units from units.csv) and the demo accounts.
- activity.py: demo activity on top of it (learning, a team, requests, visits, a group session).
- messages.py: demo messages by Zalo, SMS and in-app with their receipts (notifications, costs).
- province.py: activity in all ten communes: the generator below at a small, recent scale, then
  campaigns, assignments due and overdue, attempts left and a closed ledger month.
- generate.py: `generate()`, the synthetic data generator: runs the steps below in order, then
  recounts the summaries.
- simulation.py: the generator's shared world: seeded randomness, clock, places, courses, names.
- simulation_people.py: learners and their learning; managers, teams, assignments.
- simulation_visits.py: help requests, visits and what came of them.
- simulation_households.py: households for the resident records (when asked for, as the demo is).
- bulk_writer.py: writes generated rows fast (COPY on PostgreSQL), with ids reserved in blocks.
"""
