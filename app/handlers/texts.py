"""Shared Chinese texts of the chat: labels of capabilities, the menu, and small helpers to word replies."""

from __future__ import annotations

import re

from app.handlers.context import Resident, contacts, office_hint

LABELS = {
    "report_issue": "报修公共设施",
    "order_service": "预约上门服务",
    "complaint": "投诉反映问题",
    "fee": "查询物业费",
    "vote": "小区方案和投票",
    "notice": "通知公告",
    "progress": "查询办理进度",
    "bind": "绑定房屋",
    "human": "联系楼栋长/社区",
}
MENU = ("report_issue", "order_service", "complaint", "fee", "vote", "notice", "progress", "bind", "human")
EXAMPLE = "直接说您的事就行，例如“3号楼2单元楼道灯坏了”“我家马桶堵了”。"
DIDNT_HEAR = "没听清，请再说一遍或打字告诉我。"
CANCELLED = "好的，已取消。还有需要随时告诉我。"
# Danger to people comes before any dialogue: say whom to call right away.
EMERGENCY = re.compile(r"着火|失火|火灾|起火|冒烟|煤气味|燃气味|煤气泄漏|燃气泄漏|漏气|有人受伤|摔倒|晕倒|救护车|困在电梯|"
                       r"电梯困人|关在电梯|被困|有人打架|触电")
EMERGENCY_TEXT = ("【紧急】有危险请先打电话：火警119，急救120，报警110；闻到燃气味请开窗通风、不要开关电器，"
                  "到室外拨打燃气公司抢修电话。")
YES = {"1", "是", "是的", "对", "对的", "对啊", "确认", "确定", "好", "好的", "可以", "行", "没错", "没问题", "提交", "嗯",
       "嗯嗯", "ok", "yes", "确认提交"}
NO = {"2", "不对", "不是", "修改", "改", "改一下", "错了", "不", "no"}


def numbered(codes: list[str] | tuple[str, ...]) -> str:
    """ "1 报修公共设施 2 预约上门服务" for a list of intent codes."""
    return " ".join(f"{i} {LABELS.get(code, code)}" for i, code in enumerate(codes, 1))


def menu_text() -> str:
    """What Linli can do, as a numbered menu."""
    lines = [f"{i} {LABELS[code]}" for i, code in enumerate(MENU, 1)]
    return "我可以帮您：\n" + "\n".join(lines) + "\n回复数字，或" + EXAMPLE


def contact_text(who: Resident, lead: str = "") -> str:
    """Whom to call: the resident's building head and community staff (after `lead`), or general office information."""
    lines = contacts(who)
    if lines:
        return (lead + "\n" if lead else "") + "\n".join(lines)
    if who.building is None:
        hint = "您还没有绑定房屋，暂时查不到您所在楼栋的联系人。扫描楼栋里张贴的二维码后再问我，就能告诉您。"
    else:
        hint = f"{who.building.estate.name}{who.building.name}暂未登记楼栋长和社区联系人。"
    return hint + office_hint()


def preparing(feature: str, who: Resident, extra: str = "") -> str:
    """Say plainly that a capability is not live yet, and whom to call meanwhile."""
    text = f"{feature}功能正在上线准备中，暂时还不能在这里办理。"
    if extra:
        text += extra
    return text + "\n" + contact_text(who, "有急事请联系：")


def choice_index(text: str, count: int) -> int | None:
    """The 0-based choice a reply like "1", "第二个", "2号" picks among `count` options, or None."""
    from app.nlp.text import clean, digits

    value = digits(clean(text)).replace("第", "").replace("个", "").replace("号", "").replace("项", "").strip()
    if value.isdigit() and 1 <= int(value) <= count:
        return int(value) - 1
    return None
