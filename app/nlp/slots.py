"""Slot extraction: building, unit and room; the home service wanted; the category of a report or complaint."""

from __future__ import annotations

import re

from app.nlp.text import digits

_B = r"(?P<b>\d{1,3}|[a-z])"
_STOP_AFTER_ROOM = r"(?![\d.:元块号楼栋年月日天点分岁个次斤米度层])"
# Order matters: the most explicit forms first.
_ADDRESS_PATTERNS = [
    re.compile(r"(?P<b>\d{1,3})\s*[-—_]\s*(?P<u>\d{1,2})\s*[-—_]\s*(?P<r>\d{3,4})(?!\d)"),
    re.compile(_B + r"\s*(?:号楼|号栋|栋|幢|座|#楼|#|号|楼)\s*(?P<u>\d{1,2})\s*(?:单元|门(?![禁口卫锁铃]))"
               r"(?:\s*(?P<r>\d{3,4})" + _STOP_AFTER_ROOM + r")?"),
    re.compile(_B + r"\s*(?:号楼|号栋|栋|幢|座|#楼|#)\s*(?P<r>\d{3,4})" + _STOP_AFTER_ROOM),
    re.compile(r"(?P<b>\d{1,3})\s*楼\s*(?P<r>\d{3,4})" + _STOP_AFTER_ROOM),
    re.compile(r"(?P<b>\d{1,3})\s*[-—]\s*(?P<r>\d{3,4})(?!\d)"),
    re.compile(_B + r"\s*(?:号楼|号栋|栋|幢|座|#楼)"),
]
_UNIT = re.compile(r"(?P<u>\d{1,2})\s*(?:单元|门(?![禁口卫锁铃外]))")
_ROOM = [
    re.compile(r"(?P<r>\d{3,4})\s*(?:室|房间|号房|户)"),
    re.compile(r"(?:单元|门)\s*(?P<r>\d{3,4})" + _STOP_AFTER_ROOM),
    re.compile(r"(?P<r>\d{3,4})\s*的?\s*(?:业主|住户|房主|租户|家)"),
    re.compile(r"(?:我家|家住|住在|我住|我是|住)\D{0,3}?(?P<r>\d{3,4})" + _STOP_AFTER_ROOM),
]

# Home point services (order_service): first match in this order wins, so specific kinds come first.
SERVICES = {
    "unlock": ("开锁", "换锁", "锁芯", "修锁", "锁坏", "锁打不开", "打不开门", "门打不开", "钥匙丢", "钥匙掉",
               "钥匙忘", "钥匙落", "反锁", "锁在门外", "锁门外", "进不去家", "进不了家", "进不了门", "指纹锁",
               "密码锁", "门锁"),
    "appliance": ("空调", "冰箱", "洗衣机", "热水器", "电视", "油烟机", "燃气灶", "煤气灶", "微波炉", "家电",
                  "电饭煲", "电器", "烤箱", "洗碗机", "净水器", "壁挂炉"),
    "drain": ("疏通", "马桶", "地漏", "下水道", "下水", "堵了", "堵住", "堵死", "返水", "反水", "水池堵",
              "洗手池", "厕所堵", "蹲便", "蹲坑", "便池", "通下水", "排水"),
    "electrical": ("插座", "跳闸", "电路", "线路", "开关", "电线", "漏电", "短路", "没电", "灯泡", "灯管", "电闸",
                   "空开", "灯不亮", "灯坏", "吸顶灯", "换灯", "接电", "布线"),
    "plumbing": ("水管", "水龙头", "暖气", "水暖", "阀门", "漏水", "水表", "滴水", "角阀", "花洒", "爆管",
                 "上水", "暖气片", "渗水", "冒水", "管子", "龙头", "水压", "不出水", "没热水"),
    "housekeeping": ("保洁", "打扫", "家政", "擦玻璃", "保姆", "钟点工", "大扫除", "清洗", "开荒", "做饭阿姨",
                     "卫生", "收拾屋", "收拾家", "搞卫生", "做卫生", "擦窗", "家务", "做饭", "月嫂", "育儿嫂"),
}

# Categories of reports and complaints, in priority order (the first category with a keyword wins).
CATEGORIES = {
    "elevator": ("电梯",),
    "fire": ("消防", "灭火器", "安全出口", "充电", "飞线", "电瓶车上楼", "电动车上楼", "推上楼", "堆物", "堆放",
             "堆满", "堆了", "杂物", "应急灯", "烟感", "着火", "烟味"),
    "noise": ("噪音", "吵", "装修声", "广场舞", "狗叫", "喇叭", "声音大", "音响", "敲打", "电钻", "扰民", "蹦迪", "跳绳",
              "跺脚", "剁", "拖椅子", "砸墙", "麻将", "唱歌", "卡拉ok", "咚咚"),
    "parking": ("停车", "车位", "道闸", "乱停", "挡道", "堵路", "僵尸车", "挡住", "堵门口", "挪车", "车停"),
    "lighting": ("灯", "照明", "黑乎乎", "黑漆漆", "摸黑", "太黑"),
    "structure": ("外墙", "屋顶", "墙皮", "裂缝", "井盖", "路面", "台阶", "扶手", "楼梯", "坑", "漏雨", "房顶",
                  "天台", "违章", "违建", "搭建", "防水", "塌", "脱落", "掉渣", "瓷砖", "窗户", "雨棚", "地面"),
    "water": ("化粪池", "下水道", "下水", "污水", "漏水", "积水", "水管", "水泵", "供水", "水箱", "冒水", "返水",
              "跑水", "管道", "堵", "渗水", "排水", "滴水", "水压", "没水", "水发黄", "水质"),
    "electric": ("电线", "电箱", "电表", "配电", "线路", "漏电", "电缆", "停电", "没电", "变压器"),
    "sanitation": ("垃圾", "卫生", "脏", "臭", "老鼠", "蟑螂", "粪", "小广告", "牛皮癣", "落叶", "清扫", "异味",
                   "苍蝇", "蚊子", "保洁", "狗屎", "尿"),
    "greening": ("树", "草", "绿化", "花坛", "枝", "草坪", "修剪", "菜地", "种菜"),
    "security": ("门禁", "单元门", "防盗门", "监控", "摄像", "小偷", "被盗", "偷", "陌生人", "高空抛物", "扔东西",
                 "群租", "围墙", "大门", "对讲", "门锁", "门坏", "关不上", "治安", "可疑"),
}


def extract_place(text: str) -> dict:
    """Building, unit and room found in already-cleaned text (Chinese numerals and speech digits allowed)."""
    view = digits(text)
    found: dict = {}
    for pattern in _ADDRESS_PATTERNS:
        match = pattern.search(view)
        if match:
            for slot, group in (("building", "b"), ("unit", "u"), ("room", "r")):
                value = match.groupdict().get(group)
                if value and slot not in found:
                    found[slot] = _tidy(value)
            break
    if "unit" not in found:
        match = _UNIT.search(view)
        if match:
            found["unit"] = _tidy(match.group("u"))
    if "room" not in found:
        for pattern in _ROOM:
            match = pattern.search(view)
            if match:
                found["room"] = _tidy(match.group("r"))
                break
    return found


def mask_place(view: str) -> str:
    """Replace addresses in a digits view with one placeholder, so the classifier learns no bias from them."""
    for pattern in _ADDRESS_PATTERNS + [_UNIT] + _ROOM[:2]:
        view = pattern.sub(" ⌂ ", view)
    return view


def extract_service(text: str) -> str | None:
    """The home service a message is about (unlock, drain, plumbing, appliance, electrical, housekeeping)."""
    return _first_match(text, SERVICES)


def extract_category(text: str) -> str:
    """The category of a report or complaint; "other" when no keyword says more."""
    return _first_match(text, CATEGORIES) or "other"


def _first_match(text: str, table: dict) -> str | None:
    for code, words in table.items():
        if any(word in text for word in words):
            return code
    return None


def _tidy(value: str) -> str:
    # Letters are building names ("A"); numbers lose leading zeros except rooms spoken digit by digit.
    if value.isalpha():
        return value.upper()
    return value.lstrip("0") or "0"
