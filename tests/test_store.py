"""The store on both backends (SQLite and a real PostgreSQL): migrations, reads, writes,
pruning, refusals, and concurrent writers."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from osint_fanout._redact import register_secret
from osint_fanout._results import Status
from osint_fanout.store import StoredResult, StoreError, open_store
from osint_fanout.store._migrate import HEAD, MIGRATIONS, REVISIONS
from osint_fanout.store._records import row_of
from osint_fanout.store._tables import metadata
from tests.store_kit import result, start_writer

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def record(url: str, items: list[tuple[object, datetime]], *, run_started: datetime = NOW) -> int:
    with open_store(url) as store:
        run = store.begin_run(run_started)
        store.insert([row_of(item, at, run) for item, at in items])  # type: ignore[arg-type]
        store.finish_run(run, max([at for _, at in items], default=run_started))
        return run


def test_a_new_store_is_made_at_the_newest_revision_and_matches_the_tables(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with open_store(store_url) as store, store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
        assert MigrationContext.configure(conn).get_current_revision() == HEAD  # Alembic agrees
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    with open_store(store_url) as again:  # the second open only reads the version
        assert again.count() == 0


def test_running_the_migrations_gives_the_same_store_as_creating_it(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from osint_fanout.store._migrate import _upgrade

    made = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    if store_url.startswith("sqlite"):
        Path(store_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    with made.begin() as conn:
        _upgrade(conn)  # from nothing, through every migration
    with made.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    made.dispose()
    with open_store(store_url) as store:  # a migrated store opens as it is
        assert store.count() == 0


def test_the_known_revisions_are_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    walked = [rev.revision for rev in script.walk_revisions()]
    assert tuple(reversed(walked)) == REVISIONS
    assert script.get_current_head() == HEAD


def test_results_come_back_exactly_newest_first(store_url: str) -> None:
    data = {"records": {"A": ["192.0.2.1"], "TXT": ["héllo \u202e"]}, "n": 1.5}
    record(
        store_url,
        [
            (result(data=data), NOW - timedelta(hours=2)),
            (result(status=Status.TIMEOUT), NOW - timedelta(hours=1)),
            (result(adapter="ct", status=Status.EMPTY), NOW),
            (result("other.example"), NOW),
        ],
    )
    with open_store(store_url) as store:
        listed = list(store.history("example.com"))
        assert [(r.adapter, r.status) for r in listed] == [("ct", "empty"), ("dns", "timeout"), ("dns", "ok")]
        oldest = listed[-1]
        assert oldest.data == data and oldest.recorded_at == NOW - timedelta(hours=2)
        assert oldest.tool_version and oldest.run_id is not None
        assert listed[1].error is not None and listed[1].error.type == "timeout"
        assert [r.status for r in store.history("example.com", adapter="dns", limit=1)] == ["timeout"]
        back = oldest.to_result()
        assert back.data == data and back.target.value == "example.com" and back.status is Status.OK


@pytest.mark.parametrize("returning", [True, False])
def test_rows_go_in_whole_with_or_without_insert_returning(tmp_path: Path, returning: bool) -> None:
    """SQLite before 3.35 has no RETURNING: the rows then go by executemany."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    items = [(result(f"host{n}.example", data={"n": n}), NOW - timedelta(seconds=n)) for n in range(1200)]
    with open_store(url) as store:
        store.engine.dialect.insert_returning = returning  # what SQLAlchemy sets from the library's version
        run = store.begin_run(NOW)
        store.insert([row_of(item, at, run) for item, at in items])  # type: ignore[arg-type]
        stored = list(store.history("host1199.example")) + list(store.history("host0.example"))
    assert [r.data for r in stored] == [{"n": 1199}, {"n": 0}]
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("select count(*) from results")).scalar_one() == 1200


def test_cached_gives_only_a_young_enough_ok_or_empty_result(store_url: str) -> None:
    record(
        store_url,
        [
            (result(data={"v": "old"}), NOW - timedelta(hours=3)),
            (result(data={"v": "fresh"}), NOW - timedelta(minutes=30)),
            (result(status=Status.ERROR), NOW - timedelta(minutes=1)),
            (result(adapter="ct", status=Status.EMPTY), NOW - timedelta(minutes=5)),
            (result(adapter="shodan", status=Status.SKIPPED, reason="no key"), NOW),
        ],
    )
    with open_store(store_url) as store:
        hit = store.cached("example.com", "dns", 3600, now=NOW)
        assert hit is not None and hit.data == {"v": "fresh"}  # the error after it is not reused
        assert store.cached("example.com", "dns", 600, now=NOW) is None
        empty = store.cached("example.com", "ct", 600, now=NOW)
        assert empty is not None and empty.status == "empty"
        assert store.cached("example.com", "shodan", 3600, now=NOW) is None
        assert store.cached("example.org", "dns", 3600, now=NOW) is None


def test_previous_is_the_newest_comparable_result_outside_the_current_run(store_url: str) -> None:
    first = record(store_url, [(result(data={"v": 1}), NOW - timedelta(days=1))])
    record(store_url, [(result(status=Status.ERROR), NOW - timedelta(hours=1))])
    current = record(store_url, [(result(data={"v": 3}), NOW)])
    with open_store(store_url) as store:
        found = store.previous("example.com", exclude_run=current)
        assert set(found) == {"dns"} and found["dns"].data == {"v": 1} and found["dns"].run_id == first
        assert store.previous("example.com")["dns"].data == {"v": 3}
        assert store.previous("never.example") == {}
        ranked = store.newest(["example.com", "never.example"], depth=2)
        assert [r.data for r in ranked["example.com", "dns"]] == [{"v": 3}, {"v": 1}]


def test_prune_removes_old_results_and_emptied_runs(store_url: str) -> None:
    record(store_url, [(result(), NOW - timedelta(days=100))], run_started=NOW - timedelta(days=100))
    record(store_url, [(result(), NOW - timedelta(days=95)), (result(), NOW)], run_started=NOW - timedelta(days=95))
    with open_store(store_url) as store:
        assert store.prune(90 * 86400, now=NOW) == (2, 1)
        assert [r.recorded_at for r in store.history("example.com")] == [NOW]
        assert store.prune(90 * 86400, now=NOW) == (0, 0)


def test_keys_are_never_stored(store_url: str) -> None:
    key = "sk-store-test-0123456789abcdef"
    register_secret(key)
    record(store_url, [(result(data={"url": f"https://api.test/?key={key}"}, summary=f"with {key}"), NOW)])
    with open_store(store_url) as store, store.engine.connect() as conn:
        dumped = " ".join(str(row) for row in conn.execute(sa.text("SELECT * FROM results")))
        assert key not in dumped and "***" in dumped


def test_a_store_of_a_newer_version_is_refused_with_a_clear_message(store_url: str) -> None:
    with open_store(store_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StoreError, match=r"revision 9999_future is unknown.*newer version \(upgrade osint-fanout"):
        open_store(store_url)


def test_a_database_of_something_else_is_refused(store_url: str) -> None:
    engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    if store_url.startswith("sqlite"):
        Path(store_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE invoices (id INTEGER)"))
    engine.dispose()
    with pytest.raises(StoreError, match="no osint-fanout store"):
        open_store(store_url)


def test_an_empty_postgresql_database_is_migrated_by_one_of_many_openers(pg_server: object) -> None:
    url = pg_server.new_database("many_openers")  # type: ignore[attr-defined]
    writers = [start_writer(url, f"w{n}", 10) for n in range(4)]  # four new stores at once
    outputs = [w.communicate(timeout=300) for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0, 0], outputs
    with open_store(url) as store:
        assert store.count() == 40


def test_sqlite_file_and_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "store.db"
    with open_store(f"sqlite:///{path}") as store:
        store.begin_run(NOW)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_sqlite_corrupt_missing_and_directory_stores_are_one_line_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is no database, it is a shopping list\n" * 200)
    with pytest.raises(StoreError, match=r"^store sqlite:///.*garbage.db: file is not a database$"):
        open_store(f"sqlite:///{garbage}")
    with pytest.raises(StoreError, match="no such file"):
        open_store(f"sqlite:///{tmp_path / 'absent.db'}", create=False)
    assert not (tmp_path / "absent.db").exists()
    with pytest.raises(StoreError, match="is a directory"):
        open_store(f"sqlite:///{tmp_path}")


def test_two_processes_writing_one_new_sqlite_store_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    writers = [start_writer(url, name, 3000) for name in ("a", "b")]
    outputs = [w.communicate(timeout=300) for w in writers]  # a hang guard, no bound on time
    assert [w.returncode for w in writers] == [0, 0], outputs
    with open_store(url) as store:
        assert store.count() == 6000
        assert (
            len(
                {r.run_id for r in store.history("host2999.a.example")}
                | {r.run_id for r in store.history("host0.b.example")}
            )
            == 2
        )


def test_four_processes_writing_one_postgresql_store_lose_nothing(pg_server: object) -> None:
    url = pg_server.new_database("four_writers")  # type: ignore[attr-defined]
    open_store(url).close()
    writers = [start_writer(url, f"p{n}", 1500) for n in range(4)]
    outputs = [w.communicate(timeout=300) for w in writers]  # a hang guard, no bound on time
    assert [w.returncode for w in writers] == [0, 0, 0, 0], outputs
    with open_store(url) as store:
        assert store.count() == 6000


def test_stored_result_from_a_live_result_is_what_changes_reads() -> None:
    live = result(data={"v": 1})
    observed = StoredResult.from_result(live, NOW, run_id=7)
    assert (observed.target, observed.adapter, observed.status, observed.data) == ("example.com", "dns", "ok", {"v": 1})
    assert observed.recorded_at == NOW and observed.run_id == 7


def test_the_store_url_comes_from_the_flag_the_environment_the_config_or_the_default(tmp_path: Path) -> None:
    from osint_fanout.store import StoreUrlError, choose_url, display_url

    env = {"OSINT_FANOUT_STORE": "sqlite:///env.db", "XDG_DATA_HOME": str(tmp_path)}
    assert choose_url("sqlite:///flag.db", env=env, configured="sqlite:///file.db") == "sqlite:///flag.db"
    assert choose_url(None, env=env, configured="sqlite:///file.db") == "sqlite:///env.db"
    assert choose_url(None, env={}, configured="postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert choose_url(None, env={}).endswith("/osint-fanout/store.db")
    assert choose_url("sqlite:///flag.db", no_store=True, env=env) is None
    assert choose_url(None, env=env, enabled=False) is None
    assert choose_url("sqlite:///flag.db", env=env, enabled=False) == "sqlite:///flag.db"  # --store wins
    for bad in ("mysql://h/db", "sqlite://", "sqlite:///:memory:", "store.db"):
        with pytest.raises(StoreUrlError):
            choose_url(bad)
    assert display_url("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"


def test_threads_opening_one_new_sqlite_store_at_once_all_open_it(tmp_path: Path) -> None:
    """A search with --changes and --max-age opens a new store three times at once (the
    sink, the changes reader, the cache): switching the new file to WAL must not fail
    any of them with "database is locked"."""
    import threading

    for n in range(40):  # the race is lost now and then, not every time
        url = f"sqlite:///{tmp_path / f's{n}.db'}"
        failures: list[str] = []

        def open_one(url: str = url, failures: list[str] = failures) -> None:
            try:
                with open_store(url) as store:
                    store.previous("example.com")
            except StoreError as exc:
                failures.append(str(exc))

        threads = [threading.Thread(target=open_one) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert failures == []
