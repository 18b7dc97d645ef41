"""In a real browser: log into the demo dashboard, open an estate, see masked phones; layout at phone width."""

from __future__ import annotations

import re

import pytest

from app.services.demo import seed_demo

pytestmark = pytest.mark.browser

MASKED = re.compile(r"\b1\d{2}\*{4}\d{4}\b")
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture
def demo(app):
    """The demo data set; returns {username: password} of its logins."""
    with app.app_context():
        info = seed_demo()
    return {username: password for _label, username, password in info.logins}


def _login(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin")


def _fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_demo_login_estate_page_shows_masked_phones(page, demo, screenshot_dir):
    _login(page, "shequ", demo["shequ"])
    page.click("nav.nav >> text=小区台账")
    page.wait_for_url("**/admin/estates")
    assert page.locator("table.data tbody tr").count() == 2
    page.screenshot(path=str(screenshot_dir / "estates-desktop.png"), full_page=True)
    page.click("text=幸福里小区")
    page.wait_for_url(re.compile(r".*/admin/estates/\d+$"))
    phones = page.locator("td.phone").all_inner_texts()
    masked = [p for cell in phones for p in MASKED.findall(cell)]
    assert len(masked) >= 30, phones[:5]
    html = page.content()
    assert not FULL_PHONE.search(html), "a full phone number reached the page"
    assert "开发商持有" in html or page.locator(".tabs a").count() == 6
    page.screenshot(path=str(screenshot_dir / "estate-desktop.png"), full_page=True)
    # Another building through its tab.
    page.click(".tabs >> text=6号楼")
    assert "开发商持有" in page.content()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.url)
    assert _fits_width(page), "the estate page scrolls sideways on a phone"
    page.screenshot(path=str(screenshot_dir / "estate-phone.png"), full_page=True)
    page.goto("/admin/estates")
    assert _fits_width(page), "the estates list scrolls sideways on a phone"
    page.screenshot(path=str(screenshot_dir / "estates-phone.png"), full_page=True)
    for name in ("estates-desktop", "estate-desktop", "estate-phone", "estates-phone"):
        assert (screenshot_dir / f"{name}.png").stat().st_size > 10_000


def test_building_head_sees_one_building_and_foreign_estate_is_404(page, demo, live_server):
    _login(page, "lzz1", demo["lzz1"])
    page.goto("/admin/estates")
    assert page.locator("table.data tbody tr").count() == 1
    page.click("text=幸福里小区")
    assert page.locator(".tabs a").all_inner_texts()[0].startswith("1号楼")
    assert page.locator(".tabs a").count() == 1
    response = page.goto("/admin/estates/999999")
    assert response.status == 404 and "没有找到" in page.content()


def test_wrong_password_then_logout(page, demo, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin")
    page.wait_for_url("**/login?next=*")
    page.fill("#username", "shequ")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.content()
    assert _fits_width(page)
    page.screenshot(path=str(screenshot_dir / "login-phone.png"), full_page=True)
    page.fill("#username", "shequ")
    page.fill("#password", demo["shequ"])
    page.click("button[type=submit]")
    page.wait_for_url("**/admin")
    page.click("form.who button")
    page.wait_for_url("**/login")
    page.goto("/admin")
    page.wait_for_url("**/login?next=*")


def test_register_upload_reports_bad_rows_in_the_browser(page, demo, tmp_path, screenshot_dir):
    bad = tmp_path / "台账.csv"
    bad.write_text("小区,楼栋,单元,房号,楼层,建筑面积,业主姓名,手机号\n"
                   "新苑小区,1号楼,1单元,101,1,八十,孙红,13922223333\n", encoding="utf-8")
    _login(page, "shequ", demo["shequ"])
    page.click("nav.nav >> text=导入台账")
    assert page.input_value("#community") == "光明社区"
    page.set_input_files("#file", str(bad))
    page.click("button.primary")
    problems = page.locator(".problems li").all_inner_texts()
    assert any("第2行" in p and "八十" in p for p in problems), problems
    page.screenshot(path=str(screenshot_dir / "register-error-desktop.png"), full_page=True)
    good = tmp_path / "good.csv"
    good.write_text("小区,楼栋,单元,房号,楼层,建筑面积,业主姓名,手机号\n"
                    "新苑小区,1号楼,1单元,101,1,80,孙红,13922223333\n", encoding="utf-8")
    page.set_input_files("#file", str(good))
    page.click("button.primary")
    page.wait_for_url("**/admin/estates")
    assert "导入成功：1 行" in page.content() and "新苑小区" in page.content()
