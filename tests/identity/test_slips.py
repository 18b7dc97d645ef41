"""`linli binding-codes` prints one slip per room; the PDF holds the codes that then bind."""

from __future__ import annotations

import re

from flask.cli import ScriptInfo
from pypdf import PdfReader

from app.cli import cli
from app.extensions import db
from app.services import binding
from factories import make_building, make_estate, make_person, make_room, make_unit


def test_binding_codes_command_writes_slips_that_bind(app, tmp_path):
    from click.testing import CliRunner

    with app.app_context():
        estate = make_estate(name="幸福里小区")
        unit = make_unit(make_building(estate, "3"), "1")
        for number in ("101", "102", "201"):
            make_room(unit, number, owner=make_person(f"业主{number}", None))
        db.session.commit()
    target = tmp_path / "slips.pdf"
    result = CliRunner().invoke(cli, ["binding-codes", "幸福里小区", "--building", "3", "-o", str(target)],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "已为 3 户生成绑定码" in result.output
    text = PdfReader(str(target)).pages[0].extract_text()
    codes = re.findall(r"\b([2-9A-Z]{4}) ([2-9A-Z]{4})\b", text)
    assert len(codes) == 3
    with app.app_context():
        binding.record_consent("o-1")
        bound = binding.bind_with_code("o-1", "".join(codes[0]))
        assert bound.room.building.number == "3"


def test_binding_codes_unknown_estate(app):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["binding-codes", "不存在小区"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code != 0 and "找不到小区" in result.output
