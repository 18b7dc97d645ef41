"""Text clean-up before understanding: width, emoji, common typos, and Chinese numerals to digits."""

from __future__ import annotations

import re
import unicodedata

# Frequent typos, speech-recognition homophones and dialect words in residents' messages (→ standard form).
TYPOS = {
    "楼到": "楼道", "搂道": "楼道", "漏道": "楼道", "电悌": "电梯", "电体": "电梯", "电剃": "电梯",
    "下水到": "下水道", "下水倒": "下水道", "报休": "报修", "包修": "报修", "抱修": "报修",
    "头诉": "投诉", "投述": "投诉", "物叶费": "物业费", "物也费": "物业费", "无业费": "物业费",
    "水笼头": "水龙头", "水咙头": "水龙头", "灯怀了": "灯坏了", "坏拉": "坏了", "换所": "换锁",
    "开所": "开锁", "疏桶": "疏通", "书通": "疏通", "暖汽": "暖气", "暧气": "暖气", "插坐": "插座",
    "楼栋张": "楼栋长", "楼洞长": "楼栋长", "公高": "公告", "停点": "停电", "化粪尺": "化粪池",
    "垃级": "垃圾", "拉圾": "垃圾", "啦圾": "垃圾", "马筒": "马桶", "瞧瞧": "看看",
    "咋个": "怎么", "咋整": "怎么办", "咋": "怎么", "啥子": "什么", "么得": "没有", "木有": "没有", "冇": "没",
    # Dialect words for the same things (the home, the toilet, "I").
    "俺家": "我家", "咱家": "我家", "屋头": "家里", "茅房": "厕所", "茅厕": "厕所", "茅坑": "厕所", "俺": "我",
}
_TYPO_RE = re.compile("|".join(sorted(map(re.escape, TYPOS), key=len, reverse=True)))

_DIGITS = {"零": 0, "〇": 0, "○": 0, "洞": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = re.compile("[零〇○洞一幺二两三四五六七八九十百千]+")
# Runs that are words, not numbers; kept as they are so "一下" never becomes "1下" before a marker.
_NOT_NUMBERS = ("一下", "一些", "一直", "一样", "一起", "一般", "一定", "一会", "一点儿", "一趟", "一遍", "一声",
                "一次", "一句", "一边", "一天到晚", "十分", "百度", "千万", "万一")
_NOT_NUMBERS_RE = re.compile("|".join(map(re.escape, _NOT_NUMBERS)))
_SPEECH_ZERO = re.compile(r"(?<=[0-9])洞|洞(?=[0-9])")


def clean(text: str) -> str:
    """Normalise width, drop emoji and symbols, fix common typos, collapse spaces; keep Chinese as is."""
    text = unicodedata.normalize("NFKC", text or "")
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("So", "Sk", "Cs", "Co", "Cn", "Cf", "Mn") or char in "\ufe0f\u200d":
            kept.append(" ")
        else:
            kept.append(char)
    text = "".join(kept).lower()
    text = _TYPO_RE.sub(lambda m: TYPOS[m.group(0)], text)
    text = re.sub(r"\s+", " ", text).strip(" 。.!！?？~～,，、")
    return text


def numeral_value(run: str) -> int | None:
    """The value of a Chinese numeral run: positional ("三十二" → 32) or digit by digit ("五零一" → 501)."""
    if not run:
        return None
    if not any(char in _UNITS for char in run):
        return int("".join(str(_DIGITS[c]) for c in run))
    total, current = 0, 0
    for char in run:
        if char in _DIGITS:
            current = _DIGITS[char]
        else:
            total += (current or 1) * _UNITS[char]
            current = 0
    return total + current


def digits(text: str) -> str:
    """Replace Chinese numeral runs with Arabic digits for slot extraction ("三号楼二单元五零一" → "3号楼2单元501")."""
    if not _NUMERAL_RUN.search(text):
        return text  # most messages: nothing to convert (the spoken zero "洞" is itself a numeral character)
    protected = {}

    def protect(match: re.Match) -> str:
        key = f"\x00{len(protected)}\x00"
        protected[key] = match.group(0)
        return key

    text = _NOT_NUMBERS_RE.sub(protect, text)
    text = _NUMERAL_RUN.sub(lambda m: _numeral_digits(m.group(0)), text)
    text = _SPEECH_ZERO.sub("0", text)
    for key, value in protected.items():
        text = text.replace(key, value)
    return text


def _numeral_digits(run: str) -> str:
    # "两" alone is "two" in counts ("两天"), still a number; "洞" alone is a hole, not zero.
    if run in ("洞", "千", "百"):
        return run
    value = numeral_value(run)
    if value is None:
        return run
    if not any(char in _UNITS for char in run):
        return "".join(str(_DIGITS[c]) for c in run)  # keeps leading zeros of spoken room numbers
    return str(value)
