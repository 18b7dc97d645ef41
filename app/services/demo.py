"""The demo data set: an old estate of 6 buildings (~200 rooms), a single building, staff and a provider."""

from __future__ import annotations

import csv
import importlib
import io
import random
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import Building, Estate, EstateStandard, RoleGrant, StaffUser
from app.services.register import import_register
from app.services.spreadsheet import write_csv_rows

STREET, COMMUNITY = "红旗街道", "光明社区"
OLD_ESTATE, SINGLE_BUILDING = "幸福里小区", "和平街17号楼"
DEMO_PASSWORD = "linli-demo-2026"  # follows the staff password rule (password_policy)
# Each capability adds its demo data with one line: "module:function", called after the register and staff exist.
EXTRA_SEEDERS: list[str] = ["app.services.services_demo:seed", "app.services.votes_demo:seed", "app.services.tickets_demo:seed", "app.services.fees_demo:seed"]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔"
_GIVEN = "建国秀英桂英淑珍玉兰明华志强丽娟春梅海燕国庆红梅德明文静宝山凤英玉珍振华丽华金凤永刚秀兰淑兰立新晓东"


@dataclass
class DemoInfo:
    """What the demo created: who can log in, and which estates exist."""

    logins: list[tuple[str, str, str]] = field(default_factory=list)
    estates: list[str] = field(default_factory=list)


def _register_rows(rng: random.Random) -> list[list]:
    rows: list[list] = []
    owners: list[tuple[str, str]] = []
    for building in range(1, 7):
        units = 1 if building == 6 else 2
        for unit in range(1, units + 1):
            for floor in range(1, 7):
                for door in range(1, 4):
                    room = f"{floor}0{door}"
                    area = f"{rng.choice([56, 62, 68, 75, 83, 96, 108])}.{rng.choice(['00', '25', '50', '80'])}"
                    if building == 6 and floor == 6:
                        rows.append([OLD_ESTATE, f"{building}号楼", f"{unit}单元", room, floor, area,
                                     "幸福里置业有限公司", "", "", "", "是", "实测"])
                        continue
                    if owners and rng.random() < 0.04:
                        name, phone = rng.choice(owners)  # a few owners hold two rooms
                    else:
                        name = rng.choice(_SURNAMES) + _GIVEN[rng.randrange(0, len(_GIVEN), 2):][:2]
                        phone = f"1{rng.choice('35789')}{rng.randrange(10**8, 10**9)}"
                        owners.append((name, phone))
                    co_owner = rng.choice(_SURNAMES) + "某" if rng.random() < 0.1 else ""
                    rows.append([OLD_ESTATE, f"{building}号楼", f"{unit}单元", room, floor, area, name, phone,
                                 "", co_owner, "否", "不动产权证"])
    for floor in range(1, 6):
        for door in range(1, 5):
            name = rng.choice(_SURNAMES) + _GIVEN[rng.randrange(0, len(_GIVEN), 2):][:2]
            rows.append([SINGLE_BUILDING, "1号楼", "", f"{floor}0{door}", floor, f"{rng.choice([48, 52, 60])}.00",
                         name, f"13{rng.randrange(10**8, 10**9)}", "", "", "否", "购房合同"])
    return rows


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["小区", "楼栋", "单元", "房号", "楼层", "建筑面积", "业主姓名", "手机号", "身份标识", "共有人",
                     "开发商持有", "面积来源"])
    write_csv_rows(writer, rows)
    return buffer.getvalue().encode("utf-8")


def seed_demo() -> DemoInfo:
    """Seed (or refresh) the demo data; safe to run twice."""
    rng = random.Random(20261122)
    import_register(_csv(_register_rows(rng)), "demo.csv", street=STREET, community=COMMUNITY, actor="system:demo")
    old = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
    single = db.session.scalar(select(Estate).where(Estate.name == SINGLE_BUILDING))
    old.address, old.estate_type = "红旗街道光明路88号", "old"
    old.management_modes = ["volunteer", "menu", "public_post"]
    single.address, single.estate_type = "和平街17号", "single_building"
    single.management_modes = ["community"]
    single.facilities_handed_over = True
    if not old.standards:
        old.standards = [EstateStandard(item="cleaning", achieved_on=date(2025, 3, 1)),
                         EstateStandard(item="repair", achieved_on=date(2025, 6, 1)),
                         EstateStandard(item="security", achieved_on=date(2026, 4, 15))]
    community_id = old.community_id
    street_id = old.community.street_id

    def building(estate: Estate, number: str) -> int:
        return db.session.scalar(select(Building.id).where(Building.estate_id == estate.id,
                                                           Building.number == number))

    staff = [
        ("街道管理员", "jiedao", "红旗街道 刘主任", "street_admin", "street", street_id, "0431-88880001"),
        ("社区工作人员", "shequ", "光明社区 王姐", "community_staff", "community", community_id, "0431-88880002"),
        ("楼栋长（幸福里1号楼）", "lzz1", "1号楼 张师傅", "building_head", "building", building(old, "1"),
         "13900000001"),
        ("楼栋长（幸福里2号楼）", "lzz2", "2号楼 李阿姨", "building_head", "building", building(old, "2"),
         "13900000002"),
        ("楼栋长（和平街17号楼）", "lzz17", "17号楼 赵大爷", "building_head", "building", building(single, "1"),
         "13900000017"),
        ("服务商", "fuwu", "邻家便民维修部", "provider", "community", community_id, "0431-88880003"),
    ]
    info = DemoInfo(estates=[OLD_ESTATE, SINGLE_BUILDING])
    for label, username, name, role, scope_type, scope_id, phone in staff:
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            user = StaffUser(username=username, display_name=name, public_phone=phone)
            user.set_password(DEMO_PASSWORD)
            user.grants = [RoleGrant(role=role, scope_type=scope_type, scope_id=scope_id)]
            db.session.add(user)
        info.logins.append((label, username, DEMO_PASSWORD))
    db.session.commit()
    for path in EXTRA_SEEDERS:
        module_name, name = path.split(":")
        getattr(importlib.import_module(module_name), name)()
        db.session.commit()
    return info
