"""Background jobs and the messages they send.

models.py      Message: every e-mail and in-app notification is an outbox row first
outbox.py      writing messages once per key, e-mailing them, retries; page links for messages
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
