"""High-precision keyword rules, negation, and the real ambiguities Linli must ask about instead of guessing."""

from __future__ import annotations

import re

# Whole-message rules: short, unmistakable messages that a statistical model handles worse than a list.
_GREETING = re.compile(
    r"^(你好|您好|你们好|大家好|在吗|在不在|有人吗|哈喽|嗨|hi|hello|早上好|早安|早|上午好|中午好|下午好|晚上好|晚安|"
    r"谢谢|谢谢你|谢谢您|谢啦|多谢|感谢|辛苦了|辛苦|麻烦了|再见|拜拜|拜|88|菜单|帮助|help|好的|好|嗯|嗯嗯|ok|收到|"
    r"知道了|明白了|行|可以)"
    r"[啊呀呢哈吗么啦了哦噢喔\s,.!]*$")
_CAPABILITY = re.compile(r"^(你|您|你们|这个号|这个公众号|公众号|邻里|这里)?(都|还)?(能|会|可以)(做|干|帮我?做|帮我?干)"
                         r"(些)?(什么|啥|嘛|啥子)(呀|啊|呢|哦)?$")
_PRESENCE = re.compile(r"^(你好[,\s]*)?(有人|有人在|有没有人|人呢)(吗|不|没|么)?(呀|啊)?$")
_HUMAN = re.compile(r"转人工|人工客服|人工服务|找人工|要人工|接人工|真人|活人")
# One-word commands: unmistakable on their own, while other one- or two-character messages ("楼上", "水") are not.
COMMANDS = {
    "报修": "report_issue", "报事": "report_issue", "投诉": "complaint", "举报": "complaint",
    "开锁": "order_service", "换锁": "order_service", "疏通": "order_service", "保洁": "order_service",
    "家政": "order_service", "上门服务": "order_service", "缴费": "fee", "交费": "fee", "物业费": "fee",
    "欠费": "fee", "账单": "fee", "投票": "vote", "方案": "vote", "表决": "vote", "通知": "notice",
    "公告": "notice", "停水": "notice", "停电": "notice", "停气": "notice", "进度": "progress", "工单": "progress",
    "订单": "progress", "绑定": "bind", "解绑": "bind", "认证": "bind", "人工": "human", "客服": "human",
}
SHORT = 2
RULES = ((_GREETING, "greeting", 0.97), (_CAPABILITY, "greeting", 0.95), (_PRESENCE, "greeting", 0.9),
         (_HUMAN, "human", 0.95))

# "不是要投诉" / "不用报修": the named intent is ruled out, and the words are hidden from the classifier.
_NEGATED_WORDS = {
    "投诉": "complaint", "举报": "complaint", "报修": "report_issue", "报事": "report_issue",
    "缴费": "fee", "交费": "fee", "交钱": "fee", "投票": "vote", "绑定": "bind", "预约": "order_service",
    "找人": "human", "转人工": "human", "找你们": "human",
}
_NEGATION = re.compile(
    r"(?:不是|并不是|也不是|不用|不要|不需要|没有?|别|不想|不打算)(?:要|想|来|去|再|是)?(?:要|想)?"
    r"(?:" + "|".join(_NEGATED_WORDS) + ")")

# Drain and leak problems can be in the resident's own home (a paid service) or in shared pipes (a free report).
_AMBIGUOUS_PROBLEM = re.compile(r"下水|排水|管道|水管|漏水|渗水|冒水|返水|污水|水.{0,4}堵|堵.{0,4}水")
_HOME = re.compile(r"我家|家里|家中|自家|屋里|屋内|室内|房间|厨房|卫生间|厕所|洗手间|浴室|阳台|马桶|地漏|洗手池|"
                   r"洗菜池|水池|面盆|洗脸池|花洒|水龙头|暖气|热水器|我屋|卧室|客厅|[0-9零一二三四五六七八九]{3,4}室")
_SHARED = re.compile(r"楼道|公共|小区|化粪池|主管|总管|楼下|院子|院里|路上|路面|井|外墙|屋顶|楼顶|顶楼|整栋|整个楼|全楼|"
                     r"地下室|车库|大门|楼梯|大厅|雨水|污水|窨井|外面|门口|单元门|好几家|好多家|大家|邻居|一楼都")
AMBIGUOUS_PAIR = ("report_issue", "order_service")


_ADDRESS_WORDS = re.compile(r"我是|我住在|我住|住在|我家是|我家住|我家|家住|的|业主|住户|房主|号楼|号栋|号房|号|栋|幢|座|单元|"
                            r"室|楼|门|[-—#\s]|[0-9a-z]|[零〇一幺二两三四五六七八九十百]")


def address_only(text: str) -> bool:
    """True for a message that is only an address ("5-2-501", "我是三号楼二单元五零一的")."""
    return not _ADDRESS_WORDS.sub("", text)


def rule_intent(text: str) -> tuple[str, float] | None:
    """An intent from a whole-message rule, or None."""
    command = COMMANDS.get(text.rstrip("吧啊呀了"))
    if command:
        return command, 0.95
    for pattern, intent, confidence in RULES:
        if pattern.search(text):
            return intent, confidence
    return None


def negations(text: str) -> tuple[str, set[str]]:
    """The text without negated requests, and the intents they rule out ("不是要投诉，就是问问")."""
    ruled_out = set()
    for match in _NEGATION.finditer(text):
        for word, intent in _NEGATED_WORDS.items():
            if match.group(0).endswith(word):
                ruled_out.add(intent)
    return _NEGATION.sub(" ", text).strip(), ruled_out


def home_or_shared_unclear(text: str) -> bool:
    """True for a drain or leak problem that names neither the home nor a shared part ("下水道堵了")."""
    return bool(_AMBIGUOUS_PROBLEM.search(text)) and not _HOME.search(text) and not _SHARED.search(text)
