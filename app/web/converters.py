"""URL converters: `<int:…>` bounded to the database's 32-bit ids."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """`<int:…>` that matches only numbers an id column can hold: a bigger one is a page that does not exist (404),
    not a 500 from the database (PostgreSQL: integer out of range; SQLite: int too large to bind)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
