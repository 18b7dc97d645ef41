"""Authorization matrix: every route of app.url_map × every role, on the demo data with real ids.

Anonymous callers get the login page, the WeChat sign-in or 401 — never data, never a 500; roles without rights get
404 (or a refused POST that changes nothing); rights-holders get 200. tests/identity/test_role_matrix.py checks what
the personal-data pages show; this file checks who gets in at all, for every route, GET and POST.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select, union_all

from app import create_app
from app.extensions import db
from authz_expect import EXPECT, FLASH, LOGIN, NO_TOKEN, SIGNIN, SKIPPED, SKIPPED_PREFIXES
from matrix_world import ROLES, STAFF, api_tokens, build_world, clients


def _rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint not in SKIPPED and not rule.endpoint.startswith(SKIPPED_PREFIXES)]


def test_every_route_has_an_expectation(app):
    """A new page without a row in authz_expect.EXPECT fails here; so does a row for a route that is gone."""
    rules = _rules(app)
    assert sorted({r.endpoint for r in rules} - set(EXPECT)) == [], "routes without an authz expectation"
    assert sorted(set(EXPECT) - {r.endpoint for r in rules}) == [], "expectations for routes that do not exist"
    adapter = app.url_map.bind("localhost")
    covered = set()
    for endpoint, specs in EXPECT.items():
        for spec in specs:
            path = spec.url.split("?")[0].format_map(_Digits())
            for method, outcomes in (("GET", spec.get), ("POST", spec.post or spec.post_open)):
                if outcomes:
                    rule, _ = adapter.match(path, method=method, return_rule=True)
                    assert rule.endpoint == endpoint, (spec.url, rule.endpoint)
                    covered.add((rule.rule, method))
    for rule in rules:
        for method in {"GET", "POST"} & rule.methods:
            assert (rule.rule, method) in covered, f"{method} {rule.rule} has no expectation"


class _Digits(dict):
    """Fills every URL placeholder with a number, or a word for the string ones (the check needs paths, not ids)."""

    def __missing__(self, key):
        return "x7" if key in ("receipt", "order_number") else "7"


def test_dev_simulator_is_404_outside_demo_and_test_mode(tmp_path):
    client = create_app({"TESTING": False, "LINLI_DEMO": False, "LINLI_NLP_PRELOAD": False, "SECRET_KEY": "x",
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/plain.sqlite3"}).test_client()
    for path in ("/dev/simulator/", "/dev/simulator/pushed"):
        assert client.get(path).status_code == 404, path
    assert client.post("/dev/simulator/send", data={"text": "hi"}).status_code == 404


def _row_counts() -> tuple:
    """Rows in every table, in one statement: a refused POST must leave every count as it was."""
    query = union_all(*[select(func.count()).select_from(table) for table in db.metadata.sorted_tables])
    return tuple(db.session.execute(query).scalars())


def _outcome(client, response) -> object:
    """What a response amounts to: a status, or LOGIN / SIGNIN / FLASH for the redirects that mean "refused"."""
    if response.status_code != 302:
        return response.status_code
    location = response.headers.get("Location", "")
    if location.startswith("/login") or "/login?" in location:
        return LOGIN
    if "/connect/oauth2/authorize" in location:
        return SIGNIN
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    if any(category == "error" for category, _ in flashes):
        return FLASH
    return 302


def _check_gets(ids, by_role, tokens) -> list[str]:
    problems = []
    for endpoint, specs in EXPECT.items():
        for spec in specs:
            url = spec.url.format(**ids)
            for role, expected in spec.get.items():
                client = by_role[role]
                headers = {}
                if endpoint.startswith("api_register.") and role in STAFF:
                    # The API reads bearer tokens only: the same staff member's session cookie alone is no entry.
                    if (got := client.get(url).status_code) != NO_TOKEN:
                        problems.append(f"GET  {url:<48} {role:<10} session only: expected 401, got {got}")
                    headers = {"Authorization": f"Bearer {tokens[role]}"}
                got = _outcome(client, client.get(url, headers=headers))
                if got != expected:
                    problems.append(f"GET  {url:<48} {role:<10} expected {expected}, got {got}")
    return problems


def _check_refused_posts(app, ids, by_role) -> list[str]:
    problems = []
    with app.app_context():
        before = _row_counts()
    for specs in EXPECT.values():
        for spec in specs:
            url = spec.url.format(**ids)
            form = {key: str(value).format(**ids) for key, value in spec.form.items()}
            for role, expected in spec.post.items():
                client = by_role[role]
                got = _outcome(client, client.post(url, data=form))
                with app.app_context():
                    after = _row_counts()
                changed, before = after != before, after
                if got != expected or changed:
                    problems.append(f"POST {url:<48} {role:<10} expected {expected}, got {got}"
                                    + (" and rows changed" if changed else ""))
    return problems


def test_every_role_on_every_route(app):
    """GET every route as every role, then POST as every role that must be refused (CSRF is off in tests)."""
    with app.app_context():
        ids = asdict(build_world())
    by_role, tokens = clients(app), api_tokens(app)
    assert set(by_role) == set(ROLES)
    problems = _check_gets(ids, by_role, tokens) + _check_refused_posts(app, ids, by_role)
    assert not problems, "\n" + "\n".join(problems)
