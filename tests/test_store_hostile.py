"""The store keeps every result and shows no secret (issue 17): passwords as the database
layer reads them, hostile and odd values, numbers and durations out of range, a file
worked out as SQLite opens it, readers that may not write, prune during a search, and a
clock that was ahead."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from osint_fanout._redact import redact, register_secret
from osint_fanout._results import ErrorInfo, Status
from osint_fanout.store import StoreSink, StoreUrlError, check_url, display_url, open_store
from osint_fanout.store._records import row_of
from osint_fanout.store._url import secrets_of, sqlite_path
from tests.store_kit import result
from tests.test_store_cli import config_with_store, one_line_error
from tests.test_store_sink import Lines, closed_port
from tests.world.cli import cli_command
from tests.world.world import World

NOW = datetime.now(UTC)

PASSWORDS = ["S3cr/et-pw", "S3cr#et-pw", "S3cr?et-pw", "S3cr@et-pw", "p:w/?#[]@x"]


# -- secrets ------------------------------------------------------------------------


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_password_is_masked_and_scrubbed_exactly_as_the_database_layer_reads_it(password: str) -> None:
    url = f"postgresql://alice:{password}@db.example:5432/osint"
    assert secrets_of(url) == [make_url(url).password]
    shown = display_url(url)
    assert shown.startswith("postgresql://alice:***@") and "S3cr" not in shown and "p:w" not in shown
    check_url(url)  # registers it
    assert redact(f"error near {make_url(url).password} in the URL") == "error near *** in the URL"


def test_passwords_in_query_parameters_are_masked_and_scrubbed() -> None:
    url = "postgresql://alice@db.example/osint?password=Qu3ry-secret&sslpassword=Ssl-secret&sslmode=require"
    assert sorted(secrets_of(url)) == ["Qu3ry-secret", "Ssl-secret"]
    shown = display_url(url)
    assert "secret" not in shown and "password=***" in shown and "sslmode=require" in shown
    check_url(url)
    assert redact("Qu3ry-secret / Ssl-secret") == "*** / ***"


@pytest.mark.parametrize("password", ["S3cr/et-pw", "S3cr?et-pw"])
def test_an_unreachable_server_never_shows_a_password_with_odd_characters(password: str) -> None:
    lines = Lines()
    sink = StoreSink(f"postgresql://osint:{password}@127.0.0.1:{closed_port()}/store", on_failure=lines)
    sink.result(result())
    sink.finish()
    assert sink.failed and len(lines.lines) == 1 and "S3cr" not in lines.lines[0], lines.lines


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:Br0ken-pw@[::1/db", "postgresql://u:Br0ken-pw@host:port/db", "postgresql://u:Br0ken-pw@[::1"],
)
def test_a_url_that_cannot_be_read_is_a_usage_error_without_its_password(url: str) -> None:
    with pytest.raises(StoreUrlError) as caught:
        check_url(url)
    assert "Br0ken" not in str(caught.value) and "cannot be read" in str(caught.value)
    assert "Br0ken" not in display_url(url)


def test_every_command_refuses_a_broken_store_url_with_one_line_and_exit_2(world: World) -> None:
    url = "postgresql://u:Br0ken-pw@[::1/db"
    for args in (
        ["search", "example.com", "-a", "dns"],
        ["history", "example.com"],
        ["diff", "example.com"],
        ["prune", "--older-than", "1d"],
    ):
        run = world.run_cli(*args, "--store", url)
        assert run.code == 2, (args, run.stderr)
        assert "cannot be read" in one_line_error(run.stderr) and "Br0ken" not in run.stderr


@pytest.mark.parametrize(
    "value",
    [
        '"postgresql+asyncpg://alice:S3cretPW@db/x"',
        '["postgresql://alice:S3cretPW@db/x"]',
        '"postgresql://alice:S3cretPW@[::1/x"',
    ],
)
def test_a_store_url_config_error_never_echoes_the_value(world: World, value: str) -> None:
    config_with_store(world, f"url = {value}")
    for args in (["search", "example.com", "-a", "dns"], ["history", "example.com"]):
        run = world.run_cli(*args)
        assert run.code == 2, run.stderr
        assert "store.url" in one_line_error(run.stderr) and "S3cretPW" not in run.stderr


def test_stored_data_is_redacted_value_by_value_and_stays_valid_json() -> None:
    register_secret("20261206")
    item = result(data={"reputation": 20261206, "note": "key=20261206", "list": [20261206, "20261206"]})
    row = row_of(item, NOW, 1)
    assert json.loads(row["data"]) == {"reputation": 20261206, "note": "key=***", "list": [20261206, "***"]}


def test_a_numeric_key_echoed_as_a_number_keeps_history_diff_and_max_age_working(world: World, tmp_path: Path) -> None:
    world.write_config(keys=True)
    key = world.key_env()
    store = ("--store", f"sqlite:///{tmp_path / 'store.db'}")
    env = {name: "20261206" for name in key}  # every key digits, as some upstreams' numbers are
    first = world.run_cli("search", "example.com", "-a", "dns", "-f", "ndjson", *store, env=env)
    assert first.code in (0, 1), first.stderr
    record = row_of(result(data={"reputation": 20261206}), NOW, 1)
    assert json.loads(record["data"]) == {"reputation": 20261206}
    shown = world.run_cli("history", "example.com", "-f", "json", *store, env=env)
    assert shown.code == 0, shown.stderr
    cached = world.run_cli("search", "example.com", "-a", "dns", "-f", "ndjson", "--max-age", "1h", *store, env=env)
    assert cached.code == 0 and cached.ndjson()[0]["status"] == "ok", cached.stderr


# -- every row is kept ------------------------------------------------------------------


def test_lone_surrogates_and_nul_cost_no_result(store_url: str) -> None:
    """80 results, every fifth with a lone surrogate (data, summary, error) or NUL (which
    PostgreSQL refuses in text): every one recorded, the data read back as it was."""
    sink = StoreSink(store_url, batch=16)
    for n in range(80):
        if n % 5 == 0:
            item = result(
                f"h{n}.example.com",
                data={"registrar": "Evil \ud83d Registrar", "nul": "a\x00b"},
                summary="Evil \udc00 summary \x00",
            )
        elif n % 5 == 1:
            item = result(
                f"h{n}.example.com",
                status=Status.ERROR,
                error=ErrorInfo(type="parse", message="bad \ud800 text \x00"),
            )
        else:
            item = result(f"h{n}.example.com")
        sink.result(item)
    sink.finish()
    assert not sink.failed, sink.failure
    with open_store(store_url) as store:
        assert store.count() == 80
        stored = next(iter(store.history("h0.example.com")))
        assert stored.data == {"registrar": "Evil \ud83d Registrar", "nul": "a\x00b"}
        assert "\\udc00" in stored.summary


def test_a_row_the_database_refuses_even_escaped_costs_no_other_row(tmp_path: Path) -> None:
    from osint_fanout.store._db import Store
    from osint_fanout.store._records import StoreError

    class Picky(Store):
        def _insert(self, rows):  # type: ignore[no-untyped-def]
            if any(row["target"] == "bad.example.com" for row in rows):
                raise StoreError("store x: value refused", row_fault=True)
            super()._insert(rows)

    url = f"sqlite:///{tmp_path / 'store.db'}"
    lines = Lines()
    sink = StoreSink(url, opener=Picky, on_failure=lines)
    for name in ("a", "bad", "c", "d"):
        sink.result(result(f"{name}.example.com"))
    sink.finish()
    assert sink.failed and sink.recorded == 3 and sink.refused == 1
    assert lines.lines and "1 of 4 results were not recorded" in lines.lines[0]
    with open_store(url) as store:
        assert store.count() == 3


def test_prune_during_a_search_never_removes_its_run(store_url: str) -> None:
    """A prune (or `keep`) while a search is recording: the search's results go on into its
    run, whatever the prune removed; finished empty runs go."""
    with open_store(store_url) as store:
        old = store.begin_run(NOW - timedelta(days=10))
        store.finish_run(old, NOW - timedelta(days=10))
        running = store.begin_run(NOW - timedelta(days=3))
        store.insert([row_of(result("a.example.com"), NOW - timedelta(days=3), running)])
        assert store.prune(86400) == (1, 1)  # its old result, and the finished empty run
        assert store.insert([row_of(result("b.example.com"), NOW, running)]) == 1  # its row is still there
        assert store.count() == 1
        abandoned = store.begin_run(NOW - timedelta(days=70))
        assert store.prune(86400, now=NOW + timedelta(days=40)) == (1, 2)  # killed long ago: goes too
        assert abandoned


def test_a_result_recorded_with_the_clock_ahead_is_never_fresh(store_url: str) -> None:
    with open_store(store_url) as store:
        run = store.begin_run(NOW)
        store.insert([row_of(result("future.example.com"), datetime(2030, 1, 1, tzinfo=UTC), run)])
        store.insert([row_of(result("now.example.com"), NOW - timedelta(minutes=1), run)])
        assert store.cached("future.example.com", "dns", 3600) is None
        assert store.cached("now.example.com", "dns", 3600) is not None


# -- numbers and durations out of range -------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["prune", "--older-than", "3000000d"],
        ["prune", "--older-than", "99999999999999999999w"],
        ["diff", "example.com", "--since", "3000000d"],
        ["diff", "example.com", "--run", "99999999999999999999"],
        ["diff", "example.com", "--run", "0"],
        ["history", "example.com", "--limit", "99999999999999999999"],
        ["search", "example.com", "-a", "dns", "--max-age", "3000000d"],
        ["search", "example.com", "-a", "dns", "--shard", "²/³"],
        ["search", "example.com", "-a", "dns", "--shard", "1/99999999999999999999"],
    ],
)
def test_numbers_and_durations_out_of_range_are_usage_errors(world: World, tmp_path: Path, args: list[str]) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(store).close()
    run = world.run_cli(*args, "--store", store)
    assert run.code == 2, run.stderr
    one_line_error(run.stderr)


def test_a_keep_too_long_is_a_config_error_not_a_nightly_failure(world: World) -> None:
    config_with_store(world, 'keep = "3000000d"')
    run = world.run_cli("search", "example.com", "-a", "dns")
    assert run.code == 2 and "keep" in one_line_error(run.stderr) and "too long" in run.stderr


# -- the file SQLite opens ----------------------------------------------------------------


def test_the_file_made_private_is_the_file_sqlite_opens(world: World, tmp_path: Path) -> None:
    for text in ("my%20store.db", "a%23b.db", "plain.db", "%C3%A9t%C3%A9.db"):
        url = f"sqlite:///{tmp_path}/{text}"
        assert sqlite_path(url) == Path(make_url(url).database or "")
    run = world.run_cli(
        "search", "example.com", "-a", "dns", "-f", "json", "--store", f"sqlite:///{tmp_path}/my%20store.db"
    )
    assert run.code == 0, run.stderr
    assert not (tmp_path / "my%20store.db").exists()
    assert stat.S_IMODE((tmp_path / "my store.db").stat().st_mode) == 0o600


# -- readers --------------------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to become another user")
def test_readers_read_a_store_they_may_not_write(world: World) -> None:
    root = Path(tempfile.mkdtemp(prefix="osint-ro-"))  # pytest's tmp_path is closed to other users
    try:
        root.chmod(0o755)
        folder = root / "ro"
        folder.mkdir()
        url = f"sqlite:///{folder / 'store.db'}"
        assert world.run_cli("search", "example.com", "-a", "dns", "-f", "json", "--store", url).code == 0
        for path in (folder, folder / "store.db"):
            shutil.chown(path, "nobody")
        os.chmod(folder / "store.db", 0o400)
        os.chmod(folder, 0o500)
        env = {"PATH": os.environ["PATH"], "HOME": str(root), "XDG_CONFIG_HOME": str(root / "none")}
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cli_command()]
        for args in (["history", "example.com", "-f", "json"], ["diff", "example.com", "-f", "json"]):
            done = subprocess.run(
                [*as_nobody, *args, "--store", url], env=env, capture_output=True, text=True, timeout=60, check=False
            )
            assert done.returncode in (0, 1), done.stderr
            if args[0] == "history":
                assert [r["adapter"] for r in json.loads(done.stdout)] == ["dns"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_sessions_have_lock_and_statement_timeouts(pg_server: object) -> None:
    url = pg_server.new_database("timeouts_db")  # type: ignore[attr-defined]
    with open_store(url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar_one() == "15s"
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "5min"
