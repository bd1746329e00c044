"""The store behind one small interface, on SQLite or PostgreSQL (SQLAlchemy Core); how
each is connected to is in _engine.py."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc, func, select

from .._version import __version__
from ._engine import BUSY_TIMEOUT_S, make_engine, sqlite_file, writable
from ._found import insert_found, prune_found
from ._migrate import check_current, prepare
from ._rows import FOUND_KEY, StoreError, escaped_row, store_error
from ._tables import quota_usage, results, runs
from ._url import check_url, display_url, sqlite_path

if TYPE_CHECKING:
    from ..assets import AssetGraph
    from ._records import StoredResult

__all__ = ["Store"]

KEPT_PERIODS = 3
"""Quota periods kept per scope: the current one, and any a clock ahead or behind made."""
ABANDONED_S = 30 * 86400
"""How long before the cutoff a run that never finished must have started for `prune` to
take it as abandoned (its process killed) rather than going on."""
_CHUNK = 500  # targets per query in the bulk reads
_COMPARABLE = ("ok", "empty")


class Store:
    """An open store. Methods are safe to call from several threads at once."""

    def __init__(
        self, url: str, *, create: bool = True, read_only: bool = False, busy_timeout_s: float = BUSY_TIMEOUT_S
    ) -> None:
        """Open (and migrate) the store at `url`; StoreError when it cannot be used.
        `create=False` refuses an SQLite file that does not exist yet; `read_only` (the
        readers: history, diff): an SQLite store we may not write is opened read-only
        instead of failing; `busy_timeout_s`: how long a writer waits for another to finish."""
        self.url = check_url(url)
        self.shown = display_url(url.strip())  # as the user wrote it (postgresql://, not +psycopg)
        path = sqlite_path(self.url)
        if path is not None:
            sqlite_file(path, create=create and not read_only, shown=self.shown)
        read_only = read_only and path is not None and not writable(path)
        self.engine = make_engine(self.url, busy_timeout_s, read_only=read_only)
        try:
            if read_only:
                check_current(self.engine, self.shown)
            else:
                prepare(self.engine, self.shown)
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------

    def begin_run(self, started_at: datetime, tool_version: str = __version__) -> int:
        """A new run; its id."""
        values = {"started_at": started_at, "tool_version": tool_version, "host": socket.gethostname()[:255]}
        with self._write() as conn:
            return int(conn.execute(runs.insert().values(values).returning(runs.c.id)).scalar_one())

    def finish_run(self, run_id: int, finished_at: datetime) -> None:
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(finished_at=finished_at))

    def insert(self, rows: Sequence[dict[str, Any]]) -> int:
        """Rows made by `row_of`, in one transaction; how many were stored. A row whose
        data the database refuses costs no other row: the batch is then written a row at a
        time, a refused row again with its text escaped (`escaped_row`), and only a row
        refused even so is left out (then StoreError, `row_fault`, after the others are in).

        On SQLite, with RETURNING, so that SQLAlchemy sends them as multi-row INSERTs
        ("insertmanyvalues", up to 1,000 rows a statement): sqlite3's executemany runs a row
        at a time and takes the GIL back after each one, and beside a busy event loop each of
        those waits for the interpreter's switch interval (the store slowed the bulk run it
        records by 14%, now 7%). psycopg's executemany has no such cost (RETURNING there only
        adds work)."""
        if not rows:
            return 0
        try:
            self._insert(rows)
            return len(rows)
        except StoreError as error:
            if not error.row_fault:
                raise
        refused: StoreError | None = None
        stored = 0
        for row in rows:
            for attempt in (row, escaped_row(row)):
                try:
                    self._insert([attempt])
                    stored += 1
                    break
                except StoreError as error:
                    if not error.row_fault:
                        raise
                    refused = refused or error
        if refused is not None and stored < len(rows):
            raise StoreError(f"{refused}; {len(rows) - stored} results refused", row_fault=True, stored=stored)
        return stored

    def _insert(self, rows: Sequence[dict[str, Any]]) -> None:
        if any(row.get(FOUND_KEY) for row in rows):  # what they found goes in with them (_found.py)
            with self._write() as conn:
                insert_found(conn, rows)
            return
        insert = results.insert()
        dialect = self.engine.dialect
        if dialect.name == "sqlite" and dialect.insert_executemany_returning:  # SQLite >= 3.35
            insert = insert.returning(results.c.id)
        with self._write() as conn:
            conn.execute(insert, list(rows)).close()

    def take_quota(self, scope: str, period_start: datetime, limit: int) -> bool:
        """Count one request of `scope` in the period starting at `period_start`; False
        (counting nothing) when `limit` are counted already. Atomic across processes: the
        row is made if missing, then raised only while under the limit, in one transaction.
        Only the KEPT_PERIODS newest periods of the scope are kept: never "all before this
        one", which a run whose clock is ahead would take as today's count."""
        if self.engine.dialect.name == "sqlite":  # each dialect's module loads only when used
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        row = {"scope": scope, "period_start": period_start, "used": 0}
        key = (quota_usage.c.scope == scope, quota_usage.c.period_start == period_start)
        with self._write() as conn:
            conn.execute(insert(quota_usage).values(row).on_conflict_do_nothing())
            raised = conn.execute(
                quota_usage.update().where(*key, quota_usage.c.used < limit).values(used=quota_usage.c.used + 1)
            )
            mine = quota_usage.c.scope == scope
            start = quota_usage.c.period_start
            newest = select(start).where(mine).order_by(start.desc()).limit(KEPT_PERIODS)
            conn.execute(quota_usage.delete().where(mine, start < period_start, start.not_in(newest)))
        return raised.rowcount == 1

    def prune(self, older_than_s: float, *, now: datetime | None = None) -> tuple[int, int]:
        """Remove results recorded more than `older_than_s` ago, and the finished runs left
        with none; (results removed, runs removed). A run that has not finished may still be
        recording (a search going on now: removing its row would cost it every result to
        come), so it is kept, unless it started ABANDONED_S before the cutoff (a process
        killed before it could finish its run)."""
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=older_than_s)
        over = runs.c.finished_at.is_not(None) | (runs.c.started_at < cutoff - timedelta(seconds=ABANDONED_S))
        with self._write() as conn:
            removed = conn.execute(results.delete().where(results.c.recorded_at < cutoff)).rowcount
            prune_found(conn)
            empty = ~sa.exists().where(results.c.run_id == runs.c.id)
            gone = conn.execute(runs.delete().where(runs.c.started_at < cutoff, empty, over)).rowcount
        return removed, gone

    # -- reading ------------------------------------------------------------

    def cached(
        self, target: str, adapter: str, max_age_s: float, *, now: datetime | None = None
    ) -> StoredResult | None:
        """The newest ok/empty result of (target, adapter) recorded less than `max_age_s`
        ago, or None: what `--max-age` reuses instead of asking the upstream. A result
        "recorded" after now (a clock that was ahead) is never fresh."""
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(seconds=max_age_s)
        query = (
            select(results)
            .where(
                results.c.target == target,
                results.c.adapter == adapter,
                results.c.status.in_(_COMPARABLE),
                results.c.recorded_at >= cutoff,
                results.c.recorded_at <= now,
            )
            .order_by(results.c.recorded_at.desc(), results.c.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return _stored().from_row(row) if row is not None else None

    def previous(
        self, target: str, *, exclude_run: int | None = None, before: datetime | None = None
    ) -> dict[str, StoredResult]:
        """The newest ok/empty result of each adapter for `target`, leaving out run
        `exclude_run` (the current one) and what was recorded at or after `before`: what
        `search --changes` compares against. An empty dict: the target was never seen."""
        return self.previous_of([target], exclude_run=exclude_run, before=before).get(target, {})

    def previous_of(
        self, targets: Iterable[str], *, exclude_run: int | None = None, before: datetime | None = None
    ) -> dict[str, dict[str, StoredResult]]:
        """`previous` of many targets at once (a query per 500): by target, then adapter;
        a target never seen is left out."""
        extra = [results.c.run_id != exclude_run] if exclude_run is not None else []
        if before is not None:
            extra.append(results.c.recorded_at < before)
        out: dict[str, dict[str, StoredResult]] = {}
        for (target, adapter), ranked in self.newest(targets, where=extra).items():
            out.setdefault(target, {})[adapter] = ranked[0]
        return out

    def newest(
        self,
        targets: Iterable[str],
        *,
        adapters: Sequence[str] | None = None,
        depth: int = 1,
        where: Sequence[Any] = (),
    ) -> dict[tuple[str, str], list[StoredResult]]:
        """For each (target, adapter): its `depth` newest ok/empty results, newest first,
        among those matching `where` (SQLAlchemy conditions on `results`)."""
        out: dict[tuple[str, str], list[StoredResult]] = {}
        chunk: list[str] = []
        for target in targets:
            chunk.append(target)
            if len(chunk) == _CHUNK:
                self._newest(chunk, adapters, depth, where, out)
                chunk = []
        if chunk:
            self._newest(chunk, adapters, depth, where, out)
        return out

    def _newest(
        self,
        targets: list[str],
        adapters: Sequence[str] | None,
        depth: int,
        where: Sequence[Any],
        out: dict[tuple[str, str], list[StoredResult]],
    ) -> None:
        order = (results.c.recorded_at.desc(), results.c.id.desc())
        rank = func.row_number().over(partition_by=(results.c.target, results.c.adapter), order_by=order)
        conditions = [results.c.target.in_(targets), results.c.status.in_(_COMPARABLE), *where]
        if adapters is not None:
            conditions.append(results.c.adapter.in_(list(adapters)))
        inner = select(results, rank.label("rank")).where(*conditions).subquery()
        query = select(inner).where(inner.c.rank <= depth).order_by(inner.c.target, inner.c.adapter, inner.c.rank)
        with self._read() as conn:
            for row in conn.execute(query):
                out.setdefault((row.target, row.adapter), []).append(_stored().from_row(row))

    def history(self, target: str, *, adapter: str | None = None, limit: int | None = None) -> Iterator[StoredResult]:
        """Every stored result of `target` (of one adapter), newest first."""
        query = (
            select(results, runs.c.tool_version)
            .join(runs, runs.c.id == results.c.run_id, isouter=True)
            .where(results.c.target == target)
            .order_by(results.c.recorded_at.desc(), results.c.id.desc())
        )
        if adapter is not None:
            query = query.where(results.c.adapter == adapter)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return (_stored().from_row(row, tool_version=row.tool_version) for row in rows)

    def load_graph(self, seed: str, *, since: datetime | None = None) -> AssetGraph:
        """The stored attack surface of `seed` (see _assets.load_graph)."""
        from ._assets import load_graph

        return load_graph(self, seed, since=since)

    def run_end(self, run_id: int) -> datetime | None:
        """When the last result of run `run_id` was recorded; None for no such run (or no result)."""
        query = select(func.max(results.c.recorded_at)).where(results.c.run_id == run_id)
        with self._read() as conn:
            value: datetime | None = conn.execute(query).scalar()  # max() keeps the column's type
        return value

    def count(self) -> int:
        """How many results are stored."""
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(results)).scalar_one())

    # -- connections --------------------------------------------------------

    def _write(self) -> _Transaction:
        return _Transaction(self, write=True)

    def _read(self) -> _Transaction:
        return _Transaction(self, write=False)


class _Transaction:
    """`with store._write() as conn:` one transaction; every database error becomes a
    StoreError of one line naming the store."""

    def __init__(self, store: Store, *, write: bool) -> None:
        self.store = store
        self.write = write
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | None = None

    def __enter__(self) -> sa.Connection:
        try:
            self._conn = self.store.engine.connect().execution_options(osint_write=self.write)
            self._tx = self._conn.begin()
        except exc.SQLAlchemyError as error:
            self._close()
            raise store_error(self.store.shown, error) from None
        return self._conn

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        assert self._tx is not None
        try:
            if kind is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        except exc.SQLAlchemyError as failure:
            if kind is None:
                raise store_error(self.store.shown, failure) from None
        finally:
            self._close()
        if _row_fault(error):
            raise store_error(self.store.shown, error, row_fault=True) from None
        if isinstance(error, exc.SQLAlchemyError):
            raise store_error(self.store.shown, error) from None

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except exc.SQLAlchemyError:
                self._conn.invalidate()


def _stored() -> type[StoredResult]:
    """The result model, loaded by the first read (the writer process never loads it)."""
    from ._records import StoredResult

    return StoredResult


def _row_fault(error: BaseException | None) -> bool:
    """What a value of a row causes (text the encoding refuses, NUL in PostgreSQL text, a
    number out of range), as opposed to a store that cannot be used (locked, full, gone).
    sqlite3 raises UnicodeEncodeError itself; SQLAlchemy wraps a bind value's error in a
    StatementError that is no DBAPIError."""
    if isinstance(error, exc.DataError | exc.IntegrityError | UnicodeError | ValueError | OverflowError):
        return True
    return isinstance(error, exc.StatementError) and not isinstance(error, exc.DBAPIError)
