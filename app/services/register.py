"""The estate register (台账): all-or-nothing import of .xlsx/.csv files, and the 台账 export of seed 002."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from app import privacy
from app.extensions import db
from app.models import AuditEntry, Building, Community, Estate, Ownership, Person, Room, Street, Unit
from app.models.place import natural_key
from app.services.errors import RegisterError
from app.services.register_parse import MAX_PROBLEMS_SHOWN, RegisterRow, parse_rows, read_table

DEFAULT_STREET = "默认街道"
DEFAULT_COMMUNITY = "默认社区"
CHUNK = 1000

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did."""

    rows: int = 0
    estates: int = 0
    buildings: int = 0
    units: int = 0
    rooms_created: int = 0
    rooms_updated: int = 0
    persons: int = 0


def import_register(data: bytes, filename: str, *, street: str | None = None, community: str | None = None,
                    progress: Progress | None = None, actor: str = "cli") -> ImportReport:
    """Validate a whole register file, then write it in one transaction; any bad row → RegisterError, nothing written."""
    try:
        table = read_table(data, filename)
    except ValueError as exc:
        raise RegisterError([str(exc)]) from exc
    rows, problems = parse_rows(table)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"……另有 {len(problems) - MAX_PROBLEMS_SHOWN} 处问题未列出。")
        raise RegisterError(shown)
    try:
        report = _write(rows, street or DEFAULT_STREET, community or DEFAULT_COMMUNITY, progress)
        db.session.add(AuditEntry(actor_type=actor.split(":")[0], actor_id=actor.partition(":")[2],
                                  action="import", subject_type="register", subject_id=filename[:64],
                                  detail={"rows": report.rows, "rooms_created": report.rooms_created,
                                          "rooms_updated": report.rooms_updated}))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _write(rows: list[RegisterRow], street_name: str, community_name: str, progress: Progress | None) -> ImportReport:
    report = ImportReport(rows=len(rows))
    total = len(rows) * 3
    step = 0

    def tick(n: int) -> None:
        nonlocal step
        step += n
        if progress:
            progress(min(step, total), total)

    community = _get_or_create_community(street_name, community_name)
    estates = _ensure_estates(community, rows, report)
    building_ids, unit_ids = _ensure_units(estates, rows, report)
    room_ids = _upsert_rooms(rows, estates, building_ids, unit_ids, report, tick)
    person_ids = _upsert_persons(rows, report, tick)
    _sync_ownerships(rows, room_ids, person_ids, tick)
    return report


def _get_or_create_community(street_name: str, community_name: str) -> Community:
    street = db.session.scalar(select(Street).where(Street.name == street_name))
    if street is None:
        street = Street(name=street_name)
        db.session.add(street)
        db.session.flush()
    community = db.session.scalar(
        select(Community).where(Community.street_id == street.id, Community.name == community_name))
    if community is None:
        community = Community(street_id=street.id, name=community_name)
        db.session.add(community)
        db.session.flush()
    return community


def _ensure_estates(community: Community, rows: list[RegisterRow], report: ImportReport) -> dict[str, Estate]:
    estates: dict[str, Estate] = {}
    for row in rows:
        estate = estates.get(row.estate)
        if estate is None:
            estate = db.session.scalar(select(Estate).where(Estate.community_id == community.id,
                                                            Estate.name == row.estate))
            if estate is None:
                estate = Estate(community_id=community.id, name=row.estate, estate_type="old", management_modes=[])
                db.session.add(estate)
                report.estates += 1
            estates[row.estate] = estate
        if row.address:
            estate.address = row.address
        if row.estate_type:
            estate.estate_type = row.estate_type
    db.session.flush()
    return estates


def _ensure_units(estates: dict[str, Estate], rows: list[RegisterRow],
                  report: ImportReport) -> tuple[dict[tuple, int], dict[tuple, int]]:
    """Create missing buildings and units; returns (estate, building) → building id, (estate, building, unit) → unit id."""
    buildings: dict[tuple[str, str], Building] = {}
    for estate in estates.values():
        for building in db.session.scalars(select(Building).where(Building.estate_id == estate.id)):
            buildings[(estate.name, building.number)] = building
    for row in rows:
        if (row.estate, row.building) not in buildings:
            building = Building(estate_id=estates[row.estate].id, number=row.building,
                                sort_key=natural_key(row.building))
            db.session.add(building)
            buildings[(row.estate, row.building)] = building
            report.buildings += 1
    db.session.flush()
    units: dict[tuple, int] = {}
    building_ids = {b.id: key for key, b in buildings.items()}
    for unit in db.session.scalars(select(Unit).where(Unit.building_id.in_(list(building_ids)))):
        estate_name, building_number = building_ids[unit.building_id]
        units[(estate_name, building_number, unit.number)] = unit.id
    new_units = []
    for row in rows:
        key = (row.estate, row.building, row.unit)
        if key not in units:
            unit = Unit(building_id=buildings[(row.estate, row.building)].id, number=row.unit,
                        sort_key=natural_key(row.unit))
            db.session.add(unit)
            new_units.append((key, unit))
            units[key] = -1
    db.session.flush()
    for key, unit in new_units:
        units[key] = unit.id
    report.units = len(new_units)
    return {key: b.id for key, b in buildings.items()}, units


def _upsert_rooms(rows, estates, building_ids, units, report, tick) -> dict[int, int]:
    """Insert or update every room; returns row line → room id."""
    unit_ids = {units[(r.estate, r.building, r.unit)] for r in rows}
    existing: dict[tuple[int, str], int] = {}
    for chunk in _chunks(sorted(unit_ids)):
        for room_id, unit_id, number in db.session.execute(
                select(Room.id, Room.unit_id, Room.number).where(Room.unit_id.in_(chunk))):
            existing[(unit_id, number)] = room_id
    to_insert, to_update, room_of_line = [], [], {}
    for row in rows:
        unit_id = units[(row.estate, row.building, row.unit)]
        values = {"number": row.room, "floor": row.floor, "area": row.area, "area_source": row.area_source,
                  "sort_key": natural_key(row.room)}
        room_id = existing.get((unit_id, row.room))
        if room_id is None:
            to_insert.append({**values, "unit_id": unit_id, "building_id": building_ids[(row.estate, row.building)],
                              "estate_id": estates[row.estate].id, "_line": row.line})
        else:
            to_update.append({**values, "id": room_id})
            room_of_line[row.line] = room_id
    for chunk in _chunks(to_update):
        db.session.execute(update(Room), chunk)
        tick(len(chunk))
    for chunk in _chunks(to_insert):
        lines = [item.pop("_line") for item in chunk]
        ids = db.session.scalars(insert(Room).returning(Room.id, sort_by_parameter_order=True), chunk).all()
        room_of_line.update(zip(lines, ids))
        tick(len(chunk))
    report.rooms_created, report.rooms_updated = len(to_insert), len(to_update)
    return room_of_line


def identity_key_for(row: RegisterRow, name: str, primary: bool) -> str:
    """How the same owner is recognised across rooms: 身份标识, else name+phone, else this room only."""
    if row.developer_held and primary:
        return privacy.keyed_hash(f"developer|{row.estate}|{name}")
    if primary and row.identity:
        return privacy.keyed_hash(f"id|{row.identity}")
    if primary and row.phone:
        return privacy.keyed_hash(f"name-phone|{name}|{row.phone}")
    return privacy.keyed_hash(f"room|{row.estate}|{row.building}|{row.unit}|{row.room}|{name}")


def _upsert_persons(rows: list[RegisterRow], report: ImportReport, tick) -> dict[str, int]:
    """Insert or update every owner and co-owner; returns identity key → person id."""
    wanted: dict[str, dict] = {}
    for row in rows:
        if row.owner:
            key = identity_key_for(row, row.owner, primary=True)
            wanted[key] = {"name": row.owner, "phone": row.phone, "is_developer": row.developer_held}
        for name in row.co_owners:
            wanted.setdefault(identity_key_for(row, name, primary=False),
                              {"name": name, "phone": None, "is_developer": False})
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(wanted)):
        for person_id, key in db.session.execute(select(Person.id, Person.identity_key)
                                                 .where(Person.identity_key.in_(chunk))):
            ids[key] = person_id
    to_update = [{"id": ids[key], "name": v["name"], "is_developer": v["is_developer"], **_phone_columns(v["phone"])}
                 for key, v in wanted.items() if key in ids]
    to_insert = [{"identity_key": key, "name": v["name"], "is_developer": v["is_developer"],
                  **_phone_columns(v["phone"])} for key, v in wanted.items() if key not in ids]
    for chunk in _chunks(to_update):
        db.session.execute(update(Person), chunk)
        tick(len(chunk))
    for chunk in _chunks(to_insert):
        new_ids = db.session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), chunk).all()
        ids.update(zip((item["identity_key"] for item in chunk), new_ids))
        tick(len(chunk))
    report.persons = len(wanted)
    return ids


def _phone_columns(phone: str | None) -> dict:
    if not phone:
        return {"phone_encrypted": None, "phone_hash": None}
    return {"phone_encrypted": privacy.encrypt(phone), "phone_hash": privacy.keyed_hash(phone)}


def _sync_ownerships(rows: list[RegisterRow], room_ids: dict[int, int], person_ids: dict[str, int], tick) -> None:
    """Make each imported room's owners exactly those of the file (re-imports update, never duplicate)."""
    wanted: dict[tuple[int, int], dict] = {}
    for row in rows:
        room_id = room_ids[row.line]
        if row.owner:
            person_id = person_ids[identity_key_for(row, row.owner, primary=True)]
            wanted[(room_id, person_id)] = {"is_designated_voter": True, "developer_held": row.developer_held}
        for name in row.co_owners:
            person_id = person_ids[identity_key_for(row, name, primary=False)]
            wanted.setdefault((room_id, person_id), {"is_designated_voter": False, "developer_held": False})
    existing: dict[tuple[int, int], int] = {}
    for chunk in _chunks(sorted(set(room_ids.values()))):
        for own_id, room_id, person_id in db.session.execute(
                select(Ownership.id, Ownership.room_id, Ownership.person_id).where(Ownership.room_id.in_(chunk))):
            existing[(room_id, person_id)] = own_id
    stale = [own_id for key, own_id in existing.items() if key not in wanted]
    for chunk in _chunks(stale):
        db.session.execute(delete(Ownership).where(Ownership.id.in_(chunk)))
    to_update = [{"id": existing[key], **flags} for key, flags in wanted.items() if key in existing]
    to_insert = [{"room_id": key[0], "person_id": key[1], **flags} for key, flags in wanted.items()
                 if key not in existing]
    for chunk in _chunks(to_update):
        db.session.execute(update(Ownership), chunk)
    for chunk in _chunks(to_insert):
        db.session.execute(insert(Ownership), chunk)
        tick(len(chunk))
    tick(len(to_update))


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def export_register(estates: list[Estate]) -> bytes:
    """The 住宅小区基本情况台账 (annex of seed 002) as .xlsx bytes, one row per estate."""
    from app.services.register_export import build_workbook

    return build_workbook(estates)
