"""A real RabbitMQ node for the tests: its own node name, ports, data and Erlang cookie in a temp dir, stopped
with rabbitmqctl at the end (Debian's `rabbitmq-server`; see scripts/apt-packages.txt).

As root, the node runs as the rabbitmq user (every folder it writes is owned by it); HOME is the temp dir so
its Erlang cookie is private to this node and rabbitmqctl, run the same way, finds it. Killing the server's
process group would leave the Erlang VM running: only `rabbitmqctl stop` ends it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

BIN = Path("/usr/lib/rabbitmq/bin")
START_TIMEOUT = 120.0  # seconds: a hang guard (the node accepts AMQP after about 7 s on our machines)
START_TRIES = 3  # a free port can be taken between picking it and the node binding it: try others


def find_rabbitmq() -> Path | None:
    """The folder of rabbitmq-server and rabbitmqctl, when installed."""
    if (BIN / "rabbitmq-server").exists() and (BIN / "rabbitmqctl").exists():
        return BIN
    found = shutil.which("rabbitmq-server")
    return Path(found).parent if found and shutil.which("rabbitmqctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RabbitMQNode:
    """rabbitmq-server in a temp dir; `url(vhost)` an AMQP URL, `vhost()` a fresh virtual host."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="syndicator-mq-"))
        self.node = f"syndicator-test-{uuid.uuid4().hex[:8]}@localhost"
        self.port = 0
        self._user = "rabbitmq" if os.geteuid() == 0 else None
        self._vhosts = 0
        for sub in ("mnesia", "log"):
            (self.root / sub).mkdir()
        if self._user:
            entry = pwd.getpwnam(self._user)
            for path in (self.root, self.root / "mnesia", self.root / "log"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._proc: subprocess.Popen[bytes] | None = None
        for _ in range(START_TRIES):
            self.port = _free_port()
            if self._start():
                return
        raise RuntimeError(f"RabbitMQ did not start: {self.log_text()}")

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.root),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(_free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq"),  # none: the defaults
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbitmq.pid"),
        }

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        return ["runuser", "-u", self._user, "--", *command] if self._user else command

    def _start(self) -> bool:
        log = (self.root / "server.out").open("ab")
        self._env_now = self._env()
        self._proc = subprocess.Popen(
            self._command("rabbitmq-server"), env=self._env_now, cwd=self.root, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if _accepts(self.port) and self.ctl("await_startup").returncode == 0:
                return True
            time.sleep(0.5)
        self.stop()
        return False

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """rabbitmqctl against this node."""
        return subprocess.run(
            self._command("rabbitmqctl", "-n", self.node, *args), env=self._env_now, cwd=self.root,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def log_text(self) -> str:
        """What the node printed (for failure messages)."""
        path = self.root / "server.out"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def url(self, vhost: str = "") -> str:
        """An AMQP URL of a virtual host on this node (guest may connect from 127.0.0.1)."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{vhost}"

    def vhost(self) -> str:
        """A new, empty virtual host (its own queues: tests never see each other's messages); its URL."""
        self._vhosts += 1
        name = f"t{self._vhosts}"
        for args in (("add_vhost", name), ("set_permissions", "-p", name, "guest", ".*", ".*", ".*")):
            done = self.ctl(*args)
            if done.returncode != 0:
                raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stdout}{done.stderr}")
        return self.url(name)

    def queue_depths(self, vhost: str) -> dict[str, tuple[int, int]]:
        """Per queue of a vhost: (messages ready, messages unacknowledged)."""
        done = self.ctl("list_queues", "-p", vhost, "name", "messages_ready", "messages_unacknowledged", "-q")
        out = {}
        for line in done.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit():
                out[parts[0]] = (int(parts[1]), int(parts[2]))
        return out

    def stop(self) -> None:
        """Stop the node (rabbitmqctl stop ends the Erlang VM) and remove its files."""
        with contextlib.suppress(Exception):
            self.ctl("stop")
        if self._proc is not None:
            with contextlib.suppress(Exception):
                self._proc.wait(timeout=60)
            if self._proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, 9)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def rabbitmq_node(bindir: Path) -> Iterator[RabbitMQNode]:
    """A running node for the duration of the block."""
    node = RabbitMQNode(bindir)
    try:
        yield node
    finally:
        node.stop()
