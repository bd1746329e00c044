"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl from Debian's
`postgresql` package, in a temporary directory, on a free loopback port.

PostgreSQL refuses to run as root, and tests and CI run as root: then the server runs as
the `postgres` system user (runuser), in a directory that user owns. Without the
binaries the PostgreSQL tests fail, loudly, unless OSINT_FANOUT_TEST_NO_POSTGRES=1 says
this machine has none on purpose (then they are skipped, with that reason).
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

OPT_OUT = "OSINT_FANOUT_TEST_NO_POSTGRES"


class PgUnavailable(RuntimeError):
    pass


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin (Debian), else wherever initdb is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise PgUnavailable(
                "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on PATH): "
                f"apt-get install postgresql, or set {OPT_OUT}=1 to skip the PostgreSQL tests"
            )
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="osint-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user and shutil.which("runuser"):
            command = ["runuser", "-u", self.user, "--", *command]
        elif self.user:
            command = ["su", self.user, "-s", "/bin/sh", "-c", shlex.join(command)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            log = (
                (self.root / "log.txt").read_text(errors="replace")[-2000:] if (self.root / "log.txt").exists() else ""
            )
            raise PgUnavailable(f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr[-2000:]}{log}")

    def start(self) -> PgServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -F -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log.txt"), "-w", "start")
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"
