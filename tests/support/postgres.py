"""A real PostgreSQL server for the tests: its own cluster in a temp dir, a free port on 127.0.0.1, its unix
socket in that dir, stopped at the end (Debian's `postgresql` package; see scripts/apt-packages.txt)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

START_TRIES = 5  # a free port can be taken between picking it and the server binding it: try another


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin/ (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """initdb + pg_ctl start in a temp dir; `database()` makes a fresh, empty database and returns its URL."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # Not under pytest's tmp dirs: those are private to root, and the server runs as the postgres user.
        self.root = Path(tempfile.mkdtemp(prefix="syndicator-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._user: str | None = None
        self._databases = 0
        if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
            self._user = "postgres"
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        for _ in range(START_TRIES):
            self.port = _free_port()
            options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            log = self.root / "server.log"
            started = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start",
                                check=False)  # fmt: skip
            if started.returncode == 0:
                return
        raise RuntimeError(
            f"PostgreSQL did not start: {(self.root / 'server.log').read_text(errors='replace')}"
        )

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}")
        return result

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL reaching `database` through the server's socket in the temp dir."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}&port={self.port}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """A plain psycopg connection (autocommit), for what the tests do beside the store."""
        return psycopg.connect(
            host=str(self.root), port=self.port, user="postgres", dbname=database, autocommit=True
        )

    def database(self) -> str:
        """A new empty UTF-8 database; returns its URL."""
        self._databases += 1
        name = f"t{self._databases}"
        with self.connect() as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its files."""
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(bindir: Path) -> Iterator[PostgresServer]:
    """A running server for the duration of the block."""
    server = PostgresServer(bindir)
    try:
        yield server
    finally:
        server.stop()
