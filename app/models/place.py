"""The place hierarchy of the register: Street → Community → Estate → Building → Unit → Room."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

# The six estate categories of the register annex (seed 002).
ESTATE_TYPES = {
    "commercial": "商品房住宅小区",
    "old": "老旧住宅小区",
    "rural": "新型农村社区",
    "institution": "机关事业单位自管小区",
    "enterprise": "企业自管小区",
    "single_building": "未形成小区的独幢楼房",
}

# The management-mode toolbox (domain.md); an estate may combine several.
MANAGEMENT_MODES = {
    "professional": "专业化物业服务",
    "district": "片区大物业(1+N)",
    "menu": "菜单式服务",
    "volunteer": "第三方/楼栋长志愿服务",
    "public_post": "公益岗服务(以工抵费)",
    "renovation": "旧改接管",
    "state_trial": "国有专业化(先尝后买)",
    "self": "业主自治",
    "community": "社区代管/托底",
}

# The 六有 standard checklist.
SIX_HAVES = {
    "gate": "门岗管理",
    "cleaning": "清扫保洁",
    "repair": "物业维修",
    "greening": "绿化养护",
    "security": "安全防范",
    "parking": "停车管理",
}

AREA_SOURCES = {"title": "不动产权证", "survey": "实测", "contract": "购房合同", "register": "台账登记"}


class Street(db.Model):
    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    communities: Mapped[list["Community"]] = relationship(back_populates="street", order_by="Community.name")


class Community(db.Model):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    street: Mapped[Street] = relationship(back_populates="communities")
    estates: Mapped[list["Estate"]] = relationship(back_populates="community", order_by="Estate.name")


class Estate(db.Model):
    __tablename__ = "estates"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    estate_type: Mapped[str] = mapped_column(String(20), default="old")
    management_modes: Mapped[list] = mapped_column(JSON, default=list)
    has_owners_committee: Mapped[bool] = mapped_column(Boolean, default=False)
    has_maintenance_fund: Mapped[bool] = mapped_column(Boolean, default=False)
    facilities_handed_over: Mapped[bool] = mapped_column(Boolean, default=False)

    community: Mapped[Community] = relationship(back_populates="estates")
    buildings: Mapped[list["Building"]] = relationship(back_populates="estate", order_by="Building.sort_key")
    standards: Mapped[list["EstateStandard"]] = relationship(back_populates="estate", cascade="all, delete-orphan")

    @property
    def type_label(self) -> str:
        return ESTATE_TYPES.get(self.estate_type, self.estate_type)

    @property
    def mode_labels(self) -> list[str]:
        return [MANAGEMENT_MODES.get(code, code) for code in (self.management_modes or [])]

    def standard_status(self) -> dict[str, date | None]:
        """The 六有 checklist: item code → the date it was achieved, or None."""
        achieved = {item.item: item.achieved_on for item in self.standards}
        return {code: achieved.get(code) for code in SIX_HAVES}


class EstateStandard(db.Model):
    """One achieved item of the 六有 checklist, with the date it was reached."""

    __tablename__ = "estate_standards"
    __table_args__ = (UniqueConstraint("estate_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    item: Mapped[str] = mapped_column(String(20))
    achieved_on: Mapped[date | None] = mapped_column(Date)

    estate: Mapped[Estate] = relationship(back_populates="standards")


class Building(db.Model):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    # Zero-padded for natural order: building 2 before building 10.
    sort_key: Mapped[str] = mapped_column(String(40), default="")

    estate: Mapped[Estate] = relationship(back_populates="buildings")
    units: Mapped[list["Unit"]] = relationship(back_populates="building", order_by="Unit.sort_key")

    @property
    def name(self) -> str:
        return building_name(self.number)


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    # Empty for a building without units (many 独幢楼).
    number: Mapped[str] = mapped_column(String(20), default="")
    sort_key: Mapped[str] = mapped_column(String(40), default="")

    building: Mapped[Building] = relationship(back_populates="units")
    rooms: Mapped[list["Room"]] = relationship(back_populates="unit", order_by="Room.sort_key")

    @property
    def name(self) -> str:
        return f"{self.number}单元" if self.number else "—"


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("unit_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    sort_key: Mapped[str] = mapped_column(String(40), default="")
    floor: Mapped[int | None]
    area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    area_source: Mapped[str] = mapped_column(String(20), default="register")

    unit: Mapped[Unit] = relationship(back_populates="rooms")
    building: Mapped[Building] = relationship()
    estate: Mapped[Estate] = relationship()
    ownerships: Mapped[list["Ownership"]] = relationship(back_populates="room", cascade="all, delete-orphan")  # noqa: F821

    @property
    def label(self) -> str:
        return room_label(self.building.number, self.unit.number, self.number)


def building_name(number: str) -> str:
    """How a building is named to residents: "3号楼", or "本楼" for an estate's only, unnumbered building."""
    return f"{number}号楼" if number else "本楼"


def room_label(building_number: str, unit_number: str, number: str) -> str:
    """A room's full name, as residents say it: "3号楼2单元501室" (no unit part in a building without units)."""
    unit = f"{unit_number}单元" if unit_number else ""
    return f"{building_number}号楼{unit}{number}室"


def natural_key(text: str) -> str:
    """A sort key that orders '2' before '10' and keeps letters ('A') stable."""
    text = str(text or "")
    return text.zfill(8) if text.isdigit() else text.rjust(8, "~")
