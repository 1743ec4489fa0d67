"""What the privacy package stores. Each part keeps its own section."""

from __future__ import annotations

from app.extensions import db  # noqa: F401


# ---- consent per purpose -------------------------------------------------------------------


# ---- who read whose record -----------------------------------------------------------------


# ---- the person's requests and corrections -------------------------------------------------


# ---- erasure ledger ------------------------------------------------------------------------
