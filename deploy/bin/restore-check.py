"""Check a restored Linli database: schema at the newest migration, rows in every table, phones decrypt with SECRET_KEY.

Run through linli-admin so that it sees the production settings (and DATABASE_URL of the database to check):
    sudo DATABASE_URL=postgresql://linli:…@127.0.0.1/linli_restore linli-admin --python /opt/linli/deploy/bin/restore-check.py
Exit status 0 when everything holds, 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from app import create_app, privacy
from app.extensions import db
from app.models import Person


def main() -> int:
    """Print what was checked; return the exit status."""
    app = create_app({"LINLI_NLP_PRELOAD": False})
    problems = []
    with app.app_context():
        print(f"数据库 database: {db.engine.url.render_as_string(hide_password=True)}")
        config = Config()
        config.set_main_option("script_location", str(Path(app.root_path).parent / "migrations"))
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        print(f"迁移版本 migration: {', '.join(sorted(current)) or '无'}（最新 head: {', '.join(sorted(heads))}）")
        if current != heads:
            problems.append("数据库不是最新版本：请先运行 linli db upgrade。")
        for table in db.metadata.sorted_tables:
            print(f"  {table.name:<32} {db.session.scalar(select(func.count()).select_from(table))}")
        tokens = db.session.scalars(select(Person.phone_encrypted).where(Person.phone_encrypted.is_not(None))
                                    .limit(20)).all()
        readable = sum(1 for token in tokens if privacy.decrypt(token))
        print(f"手机号解密 phones decrypted: {readable}/{len(tokens)}")
        if tokens and not readable:
            problems.append("手机号无法解密：SECRET_KEY 与备份时的不一致。")
    for problem in problems:
        print(f"问题 PROBLEM: {problem}")
    print("恢复检查通过 restore check passed" if not problems else "恢复检查未通过 restore check FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
