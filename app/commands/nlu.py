"""`linli nlu`: train the intent classifier artefact, and evaluate understanding on a labelled file."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("nlu", help="理解居民消息：训练意图模型、评估效果。")
def nlu_command() -> None:
    """The nlu command group."""


@nlu_command.command("train", help="用 app/nlp/data 的标注数据训练意图模型，写入 model.json.gz（可复现）。")
@click.option("--check", is_flag=True, help="只检查已提交的模型是否与数据一致，不写文件。")
def train_command(check: bool) -> None:
    """Build the artefact (or check that the committed one is what the data builds)."""
    from app.nlp.model import MODEL_PATH
    from app.nlp.train import artefact_differences, build_artefact, train

    if check:
        same = MODEL_PATH.exists() and not artefact_differences(MODEL_PATH.read_bytes(), build_artefact())
        click.echo("模型与数据一致。" if same else "模型已过期：请运行 linli nlu train。")
        raise SystemExit(0 if same else 1)
    summary = train()
    click.echo(f"已写入 {summary['path']}（{summary['bytes']} 字节，{summary['examples']} 条样本，"
               f"{summary['features']} 个特征）")


@nlu_command.command("eval", help="评估：准确率、macro-F1、各意图精确率/召回率、域外误收率、槽位完全匹配率、延迟。")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--errors", is_flag=True, help="同时列出判错的句子。")
def eval_command(file: Path | None, errors: bool) -> None:
    """Evaluate on FILE (intent<TAB>text<TAB>slots JSON; default: the dev set plus the SMP2017-ECDT dev share)."""
    from app.nlp.dataset import DEV_PATH, SMP_SOURCE, dev_examples
    from app.nlp.evaluate import evaluate, summary

    path = (file or DEV_PATH).resolve()
    examples, now = dev_examples(path)
    report = evaluate(examples, now)
    click.echo(f"file: {path}")
    if path == DEV_PATH.resolve():
        click.echo(f"out-of-scope dev share from {SMP_SOURCE}")
    for line in summary(report):
        click.echo(line)
    if errors:
        click.echo("errors (text, expected, got, confidence):")
        for row in report.errors:
            click.echo(f"  {row}")
