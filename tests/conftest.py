"""Shared fixtures: temp instances, tiny real Argos models built once per session."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.support.edits import replaced
from tests.support.postgres import PostgresServer, find_bindir, postgres_server
from tests.support.rabbitmq import RabbitMQNode, find_rabbitmq, rabbitmq_node
from tests.support.s3 import CREDENTIALS, S3Bucket, S3Server, new_bucket, running_s3_server
from tests.support.tinymodel import build_package
from tests.support.upstream import Upstream

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# Hypothesis budgets: "ci" (the default) keeps property tests to a bounded count of examples; "deep"
# (HYPOTHESIS_PROFILE=deep) runs ten times as many, by hand. Tests that cost more per example take a
# fraction of max_examples (see tests/test_xss_property.py).
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def write_config(
    root: Path,
    *,
    source: str = "en",
    targets: Sequence[str] = ("fr", "ar", "ru"),
    engine: str = "argos",
    extra: str = "",
) -> Path:
    """Write config/syndicator.toml for a temp instance and return its path."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    targets_toml = ", ".join(f'"{t}"' for t in targets)
    text = textwrap.dedent(
        f"""\
        [site]
        title = "Newsroom"
        link = "https://news.example.org/"
        feeds_url = "https://news.example.org/feeds/"
        timezone = "Asia/Shanghai"

        [languages]
        source = "{source}"
        targets = [{targets_toml}]

        [translation]
        engine = "{engine}"
        packages_dir = "models"

        [[source]]
        name = "newsroom"
        kind = "folder"
        path = "articles"
        every = "5m"
        """
    )
    if "[serve]" not in extra:  # tests run side by side: never a fixed port
        text = replaced(text, "[[source]]", "[serve]\nport = 0\n\n[[source]]", 1)
    path = root / "config" / "syndicator.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def build_instance(
    root: Path,
    *,
    articles: Sequence[str] | None = None,
    folders: Sequence[str] = ("articles",),
    **config: Any,
) -> Path:
    """A temp instance at `root`: config, fixture articles (from tests/data/<folders>), the repo's catalogs."""
    (root / "articles").mkdir(parents=True)
    (root / "models").mkdir()
    for folder in folders:
        for src in sorted((DATA / folder).glob("*.md")):
            if articles is None or src.stem in articles:
                shutil.copy(src, root / "articles" / src.name)
    shutil.copytree(REPO / "locales", root / "locales")
    write_config(root, **config)
    return root


@pytest.fixture
def make_instance(tmp_path: Path) -> Callable[..., Path]:
    """Build a temp instance: config, the three fixture articles, the repo's catalogs; returns its root."""

    def make(articles: Sequence[str] | None = None, **config: Any) -> Path:
        return build_instance(tmp_path / "instance", articles=articles, **config)

    return make


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """Tiny real .argosmodel files, each pair built once per test session."""
    folder = tmp_path_factory.mktemp("argosmodels")
    built: dict[tuple[str, str, str], Path] = {}

    def get(source: str, target: str, version: str = "1.0") -> Path:
        key = (source, target, version)
        if key not in built:
            built[key] = build_package(
                folder, source, target, seed=sum(map(ord, source + target)), version=version
            )
        return built[key]

    return get


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A real HTTP server on 127.0.0.1 serving fixture feeds and pages (tests/support/upstream.py)."""
    server = Upstream()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server of this test session (tests/support/postgres.py)."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    with postgres_server(bindir) as server:
        yield server


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQNode]:
    """A real RabbitMQ node of this test session (tests/support/rabbitmq.py)."""
    bindir = find_rabbitmq()
    if bindir is None:
        pytest.skip("RabbitMQ is not installed (Debian: apt-get install rabbitmq-server)")
    with rabbitmq_node(bindir) as node:
        yield node


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new store on each database the store runs on, at the code's schema revision."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    from sqlalchemy import create_engine

    from syndicator.store.migrate import upgrade

    url = request.getfixturevalue("postgres").database()
    engine = create_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 endpoint of this test session: moto's server on a free port (tests/support/s3.py)."""
    with running_s3_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """A fresh bucket of its own on the session's S3 server; test credentials in the environment (where boto3
    and subprocesses find them)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    # Whatever the machine's own AWS files say must not leak into a test.
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    return new_bucket(s3_server)
