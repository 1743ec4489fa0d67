"""Administrative units: province > commune or ward > village or residential group."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, literal
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

#: Unit kinds by level. Province-level (1), commune-level (2), village-level (3).
KIND_LEVELS = {
    "province": 1,
    "commune": 2,
    "ward": 2,
    "village": 3,
    "residential_group": 3,
}
KIND_TITLES = {
    "province": _l("Province"),
    "commune": _l("Commune"),
    "ward": _l("Ward"),
    "village": _l("Village"),
    "residential_group": _l("Residential group"),
}


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("population IS NULL OR population >= 0", name="population_not_negative"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Official code (e.g. the 5-digit national commune code) or a province-assigned one.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(
        Enum(*KIND_LEVELS, name="unit_kind", native_enum=False, create_constraint=True, length=20)
    )
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    name_bn: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    #: Codes from the root down, e.g. "/24/07627/" — a subtree is a prefix match on this.
    path: Mapped[str] = mapped_column(String(400), index=True)
    #: Adult population where known.
    population: Mapped[int | None]
    #: True for the fictional demo province and everything under it.
    is_demo: Mapped[bool] = mapped_column(default=False)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.kind} {self.name!r}>"

    @property
    def level(self) -> int:
        return KIND_LEVELS[self.kind]

    @property
    def kind_title(self) -> str:
        return str(KIND_TITLES[self.kind])

    @property
    def display_name(self) -> str:
        """The name in the request's language, falling back to the Vietnamese name."""
        lang = str(get_locale() or "vi")
        if lang == "en" and self.name_en:
            return self.name_en
        if lang == "bn" and self.name_bn:
            return self.name_bn
        return self.name

    def contains(self, other: Unit | None) -> bool:
        """True if `other` is this unit or lies below it."""
        return other is not None and other.path.startswith(self.path)

    def commune(self) -> Unit | None:
        """The commune or ward this unit is or lies in (None for the province)."""
        unit = self
        while unit is not None and unit.level > 2:
            unit = unit.parent
        return unit if unit is not None and unit.level == 2 else None


def path_within(path_column, path: str):
    """SQL: `path_column` (a unit path) lies in the subtree whose path is `path` (itself included).

    The pattern is written into the statement rather than sent as a parameter. A statement the
    driver prepares may be planned once for every value of its parameters; but how many rows a
    path matches depends entirely on the value — a province's path matches every unit, a
    village's one — and a plan made for a village walked the province's 220,000 help requests
    one unit at a time (150 ms instead of 8 ms at a million learners). Each area keeps a plan of
    its own. Paths are codes and slashes; `%` and `_` are escaped all the same."""
    pattern = path.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    return path_column.like(literal(pattern, literal_execute=True), escape="/")
