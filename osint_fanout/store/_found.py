"""Writing what results found, beside them (the writer's side, maybe a process of its own:
no result or asset models here, only rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ._rows import FOUND_KEY
from ._tables import found_assets, found_relations, result_origins, results

__all__ = ["FOUND_KEY", "insert_found", "prune_found"]

def insert_found(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (made by `row_of`, some with FOUND_KEY) in `conn`'s transaction: the
    results, then what each found, tied to the result's id."""
    found = [row.get(FOUND_KEY) for row in rows]
    plain = [{k: v for k, v in row.items() if k != FOUND_KEY} for row in rows]
    insert = results.insert()
    if conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        returned = conn.execute(insert.returning(results.c.id, sort_by_parameter_order=True), plain)
        ids = [int(row[0]) for row in returned]
    else:  # SQLite before 3.35 has no RETURNING: a row at a time
        ids = [int(conn.execute(insert, row).inserted_primary_key[0]) for row in plain]
    origins, assets, relations = [], [], []
    for result_id, extra in zip(ids, found, strict=True):
        if not extra:
            continue
        if extra.get("origin"):
            origins.append({"result_id": result_id, **extra["origin"]})
        assets += [{"result_id": result_id, **asset} for asset in extra.get("assets", [])]
        relations += [{"result_id": result_id, **relation} for relation in extra.get("relations", [])]
    for table, made in ((result_origins, origins), (found_assets, assets), (found_relations, relations)):
        if made:
            conn.execute(table.insert(), made)


def prune_found(conn: sa.Connection) -> None:
    """Remove the observations of results that are gone (SQLite enforces no foreign keys here)."""
    for table in (result_origins, found_assets, found_relations):
        conn.execute(table.delete().where(~sa.exists().where(results.c.id == table.c.result_id)))
