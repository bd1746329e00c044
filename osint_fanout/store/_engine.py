"""How the store's database is connected to (SQLAlchemy engines).

SQLite: WAL (readers never wait for the writer), a busy timeout (two cron jobs take turns),
and every write transaction BEGIN IMMEDIATE (it takes the write lock at once, so two writers
wait for each other instead of failing on a lock upgrade). A reader that may not write the
file or its folder opens it read-only. PostgreSQL: psycopg 3, a connect timeout, and lock
and statement timeouts, so that nothing waits forever behind a lock held elsewhere.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event

from ._rows import StoreError

__all__ = [
    "BUSY_TIMEOUT_S",
    "CONNECT_TIMEOUT_S",
    "LOCK_TIMEOUT_S",
    "STATEMENT_TIMEOUT_S",
    "make_engine",
    "sqlite_file",
    "writable",
]

BUSY_TIMEOUT_S = 15.0
"""How long a writer waits for another (SQLite's busy timeout)."""
CONNECT_TIMEOUT_S = 5
LOCK_TIMEOUT_S = BUSY_TIMEOUT_S
"""PostgreSQL: how long a statement waits for a lock (a row, a table, the migration's
advisory lock) held by another session, as SQLite's busy timeout does."""
STATEMENT_TIMEOUT_S = 300
"""PostgreSQL: the longest a statement may run (a diff of a large list is a few seconds)."""


def sqlite_file(path: Path, *, create: bool, shown: str) -> None:
    """Create a new store file readable by its owner only (0600), in a private folder.
    `path` is the file the database layer opens (see _url.sqlite_path)."""
    if path.exists():
        if path.is_dir():
            raise StoreError(f"store {shown}: is a directory")
        return
    if not create:
        raise StoreError(f"store {shown}: no such file (a search creates it)")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as error:
        raise StoreError(f"store {shown}: cannot create it: {error.strerror or error}") from None


def writable(path: Path) -> bool:
    """Whether we may write the store file and its folder (SQLite writes its -wal and -shm
    files beside it)."""
    return os.access(path, os.W_OK) and os.access(path.parent if str(path.parent) else ".", os.W_OK)


def make_engine(url: str, busy_timeout_s: float, *, read_only: bool = False) -> sa.Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, busy_timeout_s, read_only=read_only)
    options = f"-c lock_timeout={int(LOCK_TIMEOUT_S * 1000)} -c statement_timeout={STATEMENT_TIMEOUT_S * 1000}"
    return sa.create_engine(
        url,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "osint-fanout",
            "options": options,
        },
        pool_pre_ping=True,
    )


def _sqlite_engine(url: str, busy_timeout_s: float, *, read_only: bool) -> sa.Engine:
    if read_only:
        from ._url import sqlite_path

        path = sqlite_path(url)
        assert path is not None
        engine = sa.create_engine("sqlite://", creator=lambda: _read_only(path, busy_timeout_s))
    else:
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves (SQLAlchemy's recipe)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if not read_only:
            _wal(cursor, busy_timeout_s)
            cursor.execute("PRAGMA synchronous = NORMAL")  # in WAL: a commit survives a killed process
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("osint_write") else "BEGIN")

    return engine


def _read_only(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """A read-only connection to a store we may not write. In WAL mode SQLite needs the
    -shm file: while a writer has the store open it is there (`mode=ro` reads beside the
    writer); when none has, there is no -wal file either, the file is all there is, and it
    is read as it stands (`immutable=1`: no -shm needed)."""
    uri = f"file:{quote(str(path.absolute()))}"
    live = path.with_name(path.name + "-wal").exists()
    return sqlite3.connect(
        f"{uri}?{'mode=ro' if live else 'immutable=1'}", uri=True, timeout=busy_timeout_s, check_same_thread=False
    )


def _wal(cursor: Any, busy_timeout_s: float) -> None:
    """WAL mode. Switching a new file to it takes a lock for which SQLite does not call its
    busy handler: a connection that opens the same new file at that moment (another writer,
    or the --changes and --max-age readers of the same run) fails at once with "database is
    locked". So it is tried again, within the busy timeout; on a file in WAL already it is
    a no-op."""
    until = time.monotonic() + busy_timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= until:
                raise
            time.sleep(0.01)
