"""Tech teams and visits: teams and members' hours, help requests, booking and changing visits,
group help sessions, calendars.

Rules and queries (plain functions, explicit arguments; the pages and app/api/visits.py call the
same ones):

* `models.py`: teams, members and their skills, weekly hours and date exceptions, help requests,
  visits, group sessions and sign-ups, calendar feeds;
* `teams.py`: forming teams, members' skills and work phones, the team's promise to call, keeping
  one's hours and dates away;
* `availability.py`: when members are free: their windows minus busy times, the slot finder;
* `time_rules.py`: the rules of a member's time every booking and move obeys (never two at once,
  hours, travel buffer, daily cap), and who may set some aside;
* `help_requests.py`: asking for help, who sees a request, triage; the asker cancelling or asking
  for another time; the team's promise to call and its first contact;
* `operations.py`: free slots, booking, moving, cancelling and completing visits;
* `group_sessions.py`: planning sessions, signing up within capacity, attendance;
* `notices.py`, `wording.py`: telling the member and the resident of a change, in their words;
* `calendar.py`: iCalendar files and the members' secret feeds;
* `constraints.py`: the database's own guarantee that one member's visits never overlap;
* `text.py`: free text from forms and the API, folded and checked; a kind of help from the list.

Pages (`blueprint.py` holds the blueprint; each route module registers on it, forms in `forms.py`):

* `request_routes.py`: asking for help, the asker's request page (cancel, another time, who will
  come), triage, booking a request, the slot finder;
* `visit_routes.py`: the visit page and its changes;
* `group_session_routes.py`: group sessions, sign-ups and attendance;
* `calendar_routes.py`: the agenda, the team calendar, calendar files and feeds;
* `team_routes.py`: teams and their promise to call, members' availability and work phone.
"""
