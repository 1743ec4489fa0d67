"""The privacy package's own tables, declared in the register like every other."""


# ---- consent per purpose -------------------------------------------------------------------


# ---- who read whose record -----------------------------------------------------------------


# ---- the person's requests and corrections -------------------------------------------------


# ---- erasure ledger ------------------------------------------------------------------------
