"""The fictional demo province, and synthetic data at province scale for load and benchmark work.

- cli.py: `flask demo seed` and `flask demo generate`.
- operations.py, units.csv: the demo province (units from units.csv) and the demo accounts.
- activity.py: demo activity on top of it (learning, a team, requests, visits, a group session).
- messages.py: demo messages by Zalo, SMS and in-app with their receipts (notifications, costs).
- generate.py: `generate()`, the synthetic data generator: runs the steps below in order, then
  recounts the summaries.
- simulation.py: the generator's shared world: seeded randomness, clock, places, courses, names.
- simulation_people.py: learners and their learning; managers, teams, assignments.
- simulation_visits.py: help requests, visits and what came of them.
- bulk_writer.py: writes generated rows fast (COPY on PostgreSQL), with ids reserved in blocks.
"""
