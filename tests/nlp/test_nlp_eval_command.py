"""`linli nlu eval FILE` prints every figure the issue asks for, computed on the file given."""

from __future__ import annotations

from click.testing import CliRunner

from app.commands.nlu import nlu_command

SAMPLE = """# now: 2026-11-18T10:00:00+08:00
report_issue\t三号楼二单元楼道灯坏了\t{"building":"3","unit":"2"}
order_service\t明天下午三点来通马桶\t{"service":"drain","when":"2026-11-19T15:00"}
fee\t物业费怎么交\t{}
other\t今天天气怎么样\t{"when":"2026-11-18T00:00"}
other\t帮我订张机票\t{}
report_issue|order_service\t下水道堵了\t{"service":"drain"}
"""


def test_eval_prints_all_figures(tmp_path):
    path = tmp_path / "sample.tsv"
    path.write_text(SAMPLE, encoding="utf-8")
    result = CliRunner().invoke(nlu_command, ["eval", str(path), "--errors"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "examples: 6" in out
    assert "intent accuracy: 100.0%" in out
    assert "macro-F1: 1.000" in out
    assert "out-of-scope false-accept: 0.0% (0/2)" in out
    for figure in ("report_issue", "order_service", "building   100.0%", "unit       100.0%", "service    100.0%",
                   "when       100.0%", "p50", "p99"):
        assert figure in out


def test_eval_counts_mistakes(tmp_path):
    path = tmp_path / "wrong.tsv"
    path.write_text("fee\t今天天气怎么样\t{}\nreport_issue\t5号楼电梯坏了\t{\"building\":\"6\"}\n", encoding="utf-8")
    out = CliRunner().invoke(nlu_command, ["eval", str(path), "--errors"]).output
    assert "intent accuracy: 50.0%" in out
    assert "building   0.0% (n=1)" in out
    assert "今天天气怎么样" in out
