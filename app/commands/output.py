"""Where a command writes its file: the path given with -o, else instance/ (which git ignores); always in full."""

from __future__ import annotations

import re
from pathlib import Path

from flask import current_app

# An estate or provider name becomes part of a file name: a "/" in it must not make a folder.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def output_path(given: str | Path | None, default_name: str) -> Path:
    """The absolute path to write: `given` as the user typed it, else `default_name` under the instance folder
    (binding-code slips hold live codes: they must not land in a checkout where `git add .` would take them)."""
    if given:
        return Path(given).expanduser().resolve()
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    return (folder / _UNSAFE.sub("-", default_name).strip(" .-")).resolve()


def require_print_font() -> None:
    """Stop the command with the font's Chinese message if the font is missing (checked before anything is
    issued or written, so a failed print leaves nothing half-done)."""
    import click

    from app.services.fonts import FontMissing, register_pdf_font

    try:
        register_pdf_font()
    except FontMissing as error:
        raise click.ClickException(str(error)) from None
