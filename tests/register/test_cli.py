"""The `linli` command: help is fast to load, the register commands exit non-zero on bad files."""

from __future__ import annotations

import subprocess
import sys

from flask.cli import ScriptInfo
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.cli import cli
from app.extensions import db
from app.models import Room
from register_files import xlsx_bytes


def run(app, *args):
    from click.testing import CliRunner

    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_help_lists_commands_without_loading_the_app():
    code = "import sys, app.cli; sys.argv=['linli','--help']\ntry: app.cli.main()\nexcept SystemExit: pass\n" \
           "print('flask_sqlalchemy' in sys.modules, 'jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "import-register" in out and "demo" in out
    assert out.strip().endswith("False False")


def test_import_register_ok_and_bad(app, tmp_path):
    good = tmp_path / "台账.xlsx"
    good.write_bytes(xlsx_bytes([["幸福里小区", "1号楼", "1单元", "101", 1, 70, "张三", "13812341234"]]))
    result = run(app, "import-register", str(good), "--street", "红旗街道", "--community", "光明社区")
    assert result.exit_code == 0, result.output
    assert "导入成功：1 行" in result.output

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes([["幸福里小区", "1号楼", "1单元", "102", 1, "八十", "李四", ""]]))
    result = run(app, "import-register", str(bad))
    assert result.exit_code == 1
    assert "第2行：建筑面积“八十”不是数字" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Room.id))) == 1


def test_import_register_missing_file(app, tmp_path):
    result = run(app, "import-register", str(tmp_path / "nope.xlsx"))
    assert result.exit_code == 2 and "找不到文件" in result.output


def test_export_register_writes_the_annex(app, tmp_path):
    with app.app_context():
        from app.services.demo import seed_demo

        seed_demo()
    target = tmp_path / "台账.xlsx"
    result = run(app, "export-register", str(target))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(target).active
    assert sheet["A1"].value == "住宅小区基本情况台账"
    rows = {row[3]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    old = rows["幸福里小区"]
    header = [cell.value for cell in sheet[3]]
    assert old[header.index("老旧住宅小区")] == "√"
    assert old[header.index("菜单式服务")] == "√"
    assert old[header.index("清扫保洁")] == "2025-03-01"
    assert rows["和平街17号楼"][header.index("未形成小区的独幢楼房")] == "√"
    assert 170 <= old[20] <= 230  # households


def test_demo_seed_only_migrates_and_seeds(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "app.cli_entry", "demo", "--seed-only"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "演示数据已写入：幸福里小区" in result.stdout
    assert "jiedao" in result.stdout
