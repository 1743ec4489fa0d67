"""Personal data under the law (Law 91/2025/QH15, Decree 356/2025/ND-CP): what the platform holds
about people, why and on what basis, consent per purpose, a person's requests about their own
data, erasure, retention, and who read whose record.

purposes.py    the purposes personal data serve, the legal bases, the consent channels
register.py    the personal-data register: what each table holds, why, how long; export and erase handlers
subjects.py    who a request is about (an account, resident records, or both)
models.py      what the privacy package stores (PersonConsent: consent and legal basis per purpose)
consents.py    giving and withdrawing consents, and whether a person's data may serve a purpose
forms.py       the consent fields the resident, import and assisted-account forms carry
blueprint.py   the blueprint of the privacy pages alone
"""
