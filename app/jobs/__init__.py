"""Background jobs and the messages they send.

models.py      Message: every e-mail and in-app notification is an outbox row first
outbox.py      writing messages once per key, sending them by the person's channels, retries;
               page links for messages
routing.py     which channel carries a message (the person's order, what is configured), quiet
               hours and the daily cap
channels.py    the providers beside e-mail: Zalo (ZNS, its shared token) and SMS gateways
template_data.py  the parameters a Zalo template is filled with, per kind of message
reminders.py   the scheduled jobs that write messages: visit reminders, daily digests, outcome
               nudges, follow-up and overdue-assignment reminders, the managers' weekly digest
               (its figures come from app.reports.digest, visit wording from app.visits.wording)
scheduler.py   the jobs declared as data, and the schedulers that run them (one at a time)
cli.py         `flask scheduler run` and `flask jobs ...` for operators
routes.py      the in-app notifications page
message_states.py  what a person is shown of a message: its channel and state (waiting, sent,
               delivered, failed)
receipts.py    providers' delivery receipts: signatures, reading them, recording them once
receipt_routes.py  the receipt webhooks (/hooks/messages/sms, /hooks/messages/zalo)
"""
