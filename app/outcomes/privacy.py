"""The personal data of this package's tables, declared in the register (app.privacy.register)."""
