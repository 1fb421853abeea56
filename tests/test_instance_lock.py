"""One service per instance: a second `run`, `run --once`, `publish` or `verify` refuses and names the holder;
the lock goes with its process however it ends; processes creating a fresh store at once all succeed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.cli import main
from tests.support.service import LIVENESS, REPO, ServiceProcess, wait_for


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def test_a_second_process_refuses_while_the_service_runs(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    with ServiceProcess(root) as service:
        wait_for(lambda: "running:" in service.log(), "the service to start")
        for command in (("run", "--once"), ("publish",), ("verify",)):
            capsys.readouterr()
            assert _cli(root, *command) == 1, command
            err = capsys.readouterr().err
            assert f"pid {service.proc.pid}" in err and "`syndicator run`" in err, err
            assert "data/syndicator.lock" in err
        second = subprocess.run(
            [sys.executable, "-m", "syndicator", "--config", str(root / "config" / "syndicator.toml"), "run"],
            cwd=root, capture_output=True, text=True, timeout=LIVENESS,
        )  # fmt: skip
        assert second.returncode == 1 and f"pid {service.proc.pid}" in second.stderr
        assert _cli(root, "status") == 0  # reading needs no lock
        service.kill9()
    # kill -9 leaves no lock behind: the kernel dropped it with the process.
    assert _cli(root, "run", "--once") == 0
    assert _cli(root, "verify") == 0


_CREATE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from syndicator.store import Store
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    Store(sys.argv[1]).close()
    """
)


@pytest.mark.parametrize("round_", range(3))
def test_processes_creating_a_fresh_store_at_once_all_succeed(tmp_path: Path, round_: int) -> None:
    db = tmp_path / "data" / "syndicator.db"
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CREATE, f"sqlite:///{db}", str(go)],
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    time.sleep(1.0)  # let them all import and wait at the line (not a timing assertion: they just wait)
    go.touch()
    errors = [p.communicate(timeout=LIVENESS)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, "\n".join(e for e in errors if e)
