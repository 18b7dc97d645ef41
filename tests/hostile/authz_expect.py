"""What every role gets from every route: the expectations of test_authz_matrix.py, keyed by endpoint.

A new route without an entry here fails test_every_route_has_an_expectation. URLs name real ids of the matrix
world (`{estate}`, `{ticket}` … are fields of matrix_world.Ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matrix_world import RESIDENTS, STAFF

LOGIN = "login"  # 302 to /login?next=…
SIGNIN = "signin"  # 302 to WeChat's snsapi_base authorisation
FLASH = "flash"  # a refused POST answered with a redirect carrying an error message
NO_TOKEN = 401
HIDDEN = 404

OFFICE_IN = ("jiedao", "shequ")  # office staff over 幸福里
OFFICE_ANY = OFFICE_IN + ("outsider",)  # an office role anywhere (the page lists only what is in scope)
IN_REACH = OFFICE_IN + ("lzz1",)  # see 幸福里 1号楼
REGISTER_ANY = IN_REACH + ("lzz17", "outsider")  # a register role anywhere
ALL_RESIDENTS = tuple(RESIDENTS)
NOT_STAFF = ("anonymous",) + ALL_RESIDENTS


@dataclass(frozen=True)
class Spec:
    """One URL of a route: the GET outcome per role, and (for POST routes) the outcome of a refused POST per role.

    Roles missing from `post` are allowed to post (not exercised here); `post_open` marks a POST anyone may send.
    """

    url: str
    get: dict = field(default_factory=dict)
    post: dict = field(default_factory=dict)
    form: dict = field(default_factory=dict)
    post_open: bool = False


def _spec(url, signed_in, not_signed_in, refusal, ok, get, post_ok, form, status, deny, special, post_special):
    gets = {role: refusal for role in not_signed_in} | {role: status if role in ok else deny for role in signed_in}
    posts = {}
    if post_ok is not None:
        posts = {role: refusal for role in not_signed_in} | {role: deny for role in signed_in if role not in post_ok}
    return Spec(url, (gets | (special or {})) if get else {}, posts | (post_special or {}), form or {})


def staff(url, ok=(), *, get=True, post_ok=None, form=None, status=200, deny=HIDDEN, special=None,
          post_special=None):
    """A dashboard route: anonymous and residents → login; `ok` → `status`; other staff → `deny` (404).

    `post_ok` lists who may POST (not exercised); everyone else's POST is refused like their GET. `special` and
    `post_special` give the outcome of single roles where it differs, with the reason beside it.
    """
    return _spec(url, STAFF, NOT_STAFF, LOGIN, ok, get, post_ok, form, status, deny, special, post_special)


def h5(url, ok=(), *, get=True, post_ok=None, form=None, status=200, deny=HIDDEN, special=None, post_special=None):
    """A resident page: anonymous and staff (no WeChat sign-in) → sign-in; `ok` → `status`; others → `deny`."""
    return _spec(url, ALL_RESIDENTS, ("anonymous",) + STAFF, SIGNIN, ok, get, post_ok, form, status, deny, special,
                 post_special)


def public(url, status=200, post_open=False, special=None, roles=("anonymous",) + STAFF + ALL_RESIDENTS):
    """A page anyone may open (aggregates only, sign-in itself, health, the OpenAPI document)."""
    gets = {role: status for role in roles} | (special or {})
    return Spec(url, gets, {}, {}, post_open)


def api(url, ok=()):
    """A JSON API route: bearer token only — no token (a session cookie does not count) → 401; out of scope → 404."""
    return Spec(url, {role: NO_TOKEN for role in NOT_STAFF} | {role: 200 if role in ok else HIDDEN for role in STAFF})


SKIPPED = {"static", "dashboard.static"}  # files; the webhook and /dev/* are covered by their own tests
SKIPPED_PREFIXES = ("wechat.", "simulator.")

EXPECT: dict[str, list[Spec]] = {
    "dashboard.index": [public("/", 302)],
    "dashboard.home": [staff("/admin", STAFF)],
    "dashboard.estates": [staff("/admin/estates", REGISTER_ANY)],
    "dashboard.estate": [staff("/admin/estates/{estate}", IN_REACH)],
    "dashboard.reveal_phone": [staff("/admin/persons/{person}/phone", OFFICE_IN, post_ok=OFFICE_IN)],
    "dashboard.register": [staff("/admin/register", OFFICE_ANY, post_ok=OFFICE_ANY)],
    "dashboard.register_export": [staff("/admin/register/export", OFFICE_ANY)],
    "identity.requests": [staff("/admin/binding/requests", REGISTER_ANY)],
    "identity.decide": [staff("/admin/binding/requests/{request}", get=False, post_ok=IN_REACH,
                              form={"decision": "approve"})],
    "identity.binding_codes": [staff("/admin/estates/{estate}/binding-codes", get=False, post_ok=IN_REACH)],
    "identity.link_wechat": [staff("/admin/wechat-link", STAFF, post_ok=STAFF)],
    "estate_edit.edit": [staff("/admin/estates/{estate}/edit", OFFICE_IN, post_ok=OFFICE_IN,
                               form={"name": "被改名的小区", "address": "x", "estate_type": "old"})],
    # Scoped by place: each office sees messages to residents bound in its estates (a street office also those to
    # openids bound nowhere); a resend of a message outside that scope is 404 (tests/web/test_outbox_scope.py).
    "outbox_pages.index": [staff("/admin/outbox/", OFFICE_ANY)],
    "outbox_pages.retry": [staff("/admin/outbox/{message}/retry", get=False, post_ok=OFFICE_ANY)],
    "fees.index": [staff("/admin/fees", REGISTER_ANY)],
    "fees.estate": [staff("/admin/fees/{estate}", IN_REACH, post_ok=OFFICE_IN,
                          form={"action": "policy", "first_after_days": "3", "enabled": "1"})],
    "fees.arrears_list": [staff("/admin/fees/{estate}/arrears", IN_REACH, post_ok=IN_REACH,
                                form={"room_id": "{room_b1}", "note": "上门了"})],
    "fees.bills": [staff("/admin/fees/{estate}/bills", IN_REACH)],
    "fees.ledger_page": [staff("/admin/fees/{estate}/ledger", OFFICE_IN, post_ok=OFFICE_IN,
                               form={"direction": "income", "category": "parking", "amount": "10",
                                     "occurred_on": "2026-01-05", "description": "停车"})],
    "fees.letters": [staff("/admin/fees/{estate}/letters", get=False, post_ok=OFFICE_IN,
                           form={"room_id": "{room_b1}"})],
    "fees.levies": [staff("/admin/fees/{estate}/levies", OFFICE_IN, post_ok=OFFICE_IN,
                          form={"scope": "estate:{estate}", "total": "100", "title": "修门", "action": "create",
                                "due_on": "2026-12-31"})],
    "fees.pay": [staff("/admin/fees/bills/{bill}/pay", get=False, post_ok=IN_REACH,
                       form={"amount": "1", "method": "cash", "form_key": "matrix"})],
    "fees.reverse": [staff("/admin/fees/payments/{payment}/reverse", get=False, post_ok=OFFICE_IN,
                           form={"kind": "correction", "reason": "记错了", "form_key": "matrix"})],
    "fees.reports": [staff("/admin/fees/reports", OFFICE_ANY, post_ok=OFFICE_ANY)],
    "plans.index": [staff("/admin/plans", OFFICE_ANY)],
    "plans.new": [staff("/admin/estates/{estate}/plans/new", OFFICE_IN, post_ok=OFFICE_IN, form={"title": "新方案"})],
    "plans.edit": [staff("/admin/plans/{plan}", OFFICE_IN, post_ok=OFFICE_IN, form={"title": "改过的方案"})],
    "plans.act": [staff("/admin/plans/{plan}/version", get=False, post_ok=OFFICE_IN)],
    "plans.vote": [staff("/admin/votes/{vote}", OFFICE_IN)],
    "plans.close": [staff("/admin/votes/{vote}/close", get=False, post_ok=OFFICE_IN)],
    "plans.export": [staff("/admin/votes/{vote}/export.xlsx", OFFICE_IN)],
    "plans.paper": [staff("/admin/votes/{vote}/paper", get=False, post_ok=OFFICE_IN,
                          form={"room_id": "{room_b1}", "choice": "yes"})],
    "plans.scan": [staff("/admin/votes/{vote}/scans/{scan}", OFFICE_IN)],
    "services.catalogue": [staff("/admin/services/catalogue", OFFICE_ANY)],
    "services.item_form": [
        staff("/admin/services/catalogue/{item}", OFFICE_IN, post_ok=OFFICE_IN,
              form={"scope": "estate:{estate}", "code": "unlock", "name": "改价", "unit": "次", "price": "1"}),
        staff("/admin/services/catalogue/new", OFFICE_ANY, post_ok=OFFICE_ANY),
    ],
    "services.orders": [staff("/admin/services/orders", OFFICE_ANY + ("fuwu",))],
    "services.order_detail": [staff("/admin/services/orders/{order}", OFFICE_IN + ("fuwu",),
                                    post_ok=OFFICE_IN + ("fuwu",), form={"amount": "1", "method": "cash"})],
    "services.providers": [staff("/admin/services/providers", OFFICE_ANY, post_ok=OFFICE_ANY)],
    "services.provider_new": [staff("/admin/services/providers/new", get=False, post_ok=OFFICE_ANY,
                                    form={"name": "新的服务商", "kind": "company", "phone": "0431-1",
                                          "street": "{street}"})],
    "services.statement": [staff("/admin/services/providers/{provider}/statement.xlsx", OFFICE_IN + ("fuwu",))],
    "tickets.ledger": [staff("/admin/tickets", STAFF)],
    "tickets.detail": [staff("/admin/tickets/{ticket}", IN_REACH)],
    # Ticket actions answer a refusal with the ledger's error message (each ticket is checked on its own).
    "tickets.act": [staff("/admin/tickets/{ticket}/act", get=False, post_ok=IN_REACH, form={"action": "accept"},
                          post_special=dict.fromkeys(("lzz17", "fuwu", "outsider"), FLASH))],
    "tickets.bulk": [staff("/admin/tickets/bulk", get=False, post_ok=IN_REACH, form={"ids": "{ticket}", "action": "accept"},
                           post_special=dict.fromkeys(("lzz17", "fuwu", "outsider"), FLASH))],
    "tickets.board": [staff("/admin/tickets/board", OFFICE_ANY)],
    "tickets.deadlines": [staff("/admin/tickets/deadlines/{estate}", OFFICE_IN, post_ok=OFFICE_IN,
                                form={"water": "6"})],
    "tickets.export": [staff("/admin/tickets/export.xlsx", OFFICE_ANY)],
    "tickets.photo": [staff("/admin/tickets/photos/{photo}", IN_REACH)],
    "tickets.qr_sheet": [staff("/admin/tickets/qr-sheet/{estate}.pdf", IN_REACH)],
    # A notice for an estate out of reach is refused on the form (422), like any other invalid notice.
    "tickets.notices_page": [staff("/admin/notices", REGISTER_ANY, post_ok=IN_REACH,
                                   form={"estate": "{estate}", "kind": "water", "title": "停水", "body": "明天停水"},
                                   post_special={"lzz17": 422, "outsider": 422})],
    "api_register.list_estates": [api("/api/v1/estates", STAFF)],
    "api_register.get_estate": [api("/api/v1/estates/{estate}", IN_REACH)],
    "api_register.list_rooms": [api("/api/v1/estates/{estate}/rooms", IN_REACH)],
    "api-docs.openapi_json": [public("/api/v1/openapi.json")],
    "resident.bind": [h5("/h5/bind", ALL_RESIDENTS, post_ok=ALL_RESIDENTS, form={"action": "consent", "agree": "1"})],
    "resident.me": [h5("/h5/me", ALL_RESIDENTS)],
    "resident.export_me": [h5("/h5/me/export.json", ALL_RESIDENTS)],
    "resident.delete_me": [h5("/h5/me/delete", get=False, post_ok=ALL_RESIDENTS, form={"confirm": "注销"})],
    "resident.deleted": [public("/h5/deleted")],
    "resident.oauth_callback": [public("/h5/oauth", 400)],  # the sign-in itself: no code, no entry
    "fees_h5.mine": [h5("/h5/fees", ALL_RESIDENTS)],
    "fees_h5.ledger": [public("/h5/fees/ledger/{estate}")],
    "fees_h5.receipt": [public("/h5/fees/ledger/{estate}/receipt/{receipt}")],
    "fees_h5.notice": [public("/h5/fees/notice/{estate}")],
    # Drawing the picture is slow, and no page reads who asks: one caller of each kind is enough.
    "fees_h5.notice_png": [public("/h5/fees/notice/{estate}.png", roles=("anonymous", "shequ", "resident"))],
    # The worker's WeChat account is bound to no room: without a scanned building code there is nothing to report on.
    "tickets_h5.report": [h5("/h5/report", ALL_RESIDENTS, post_ok=ALL_RESIDENTS, special={"worker": 400})],
    "tickets_h5.mine": [h5("/h5/tickets", ALL_RESIDENTS)],
    "tickets_h5.ticket": [h5("/h5/tickets/{my_ticket}", ("resident",), post_ok=("resident",),
                             form={"rating": "satisfied"})],
    "tickets_h5.notice_board": [h5("/h5/notices", ALL_RESIDENTS)],
    "tickets_h5.notice": [h5("/h5/notices/{notice}", ("resident",))],
    "services_h5.catalogue_page": [h5("/h5/services", ALL_RESIDENTS)],
    # An item is no personal data: another estate's resident may see its page, but booking it is refused (422);
    # someone bound to no room is sent back to the catalogue.
    "services_h5.book": [h5("/h5/services/book/{item}", ("resident", "neighbour"), post_ok=("resident",),
                            special={"worker": 302}, post_special={"neighbour": 422, "worker": 302})],
    "services_h5.my_orders": [h5("/h5/services/orders", ALL_RESIDENTS)],
    "services_h5.my_order": [h5("/h5/services/orders/{order_number}", ("resident",), post_ok=("resident",),
                                form={"action": "cancel"})],
    "services_h5.work": [h5("/h5/services/work", ("worker",))],
    "services_h5.work_order": [h5("/h5/services/work/{order_number}", ("worker",), post_ok=("worker",),
                                  form={"action": "complete"})],
    "votes_h5.entry": [h5("/h5/votes", ALL_RESIDENTS, special={"resident": 302})],  # → the open plan
    "votes_h5.plan": [h5("/h5/votes/plans/{plan}", ("resident",), post_ok=("resident",), form={"text": "同意"})],
    "votes_h5.ballot": [h5("/h5/votes/{vote}/ballot", ("resident",), post_ok=("resident",),
                           form={"choice": "yes", "confirm": "1"})],
    "votes_h5.result": [public("/h5/votes/{vote}/result", 404)],  # the demo vote is still open: nothing published
    "votes_h5.receipt": [h5("/h5/votes/receipt", ALL_RESIDENTS, post_ok=ALL_RESIDENTS)],
    "health.healthz": [public("/healthz")],
    "auth.login": [public("/login", post_open=True, special={role: 302 for role in STAFF})],  # signed in → onwards
    "auth.logout": [public("/logout", post_open=True)],
}
