"""What a cycle needs, built once per process from a validated Config, and rebuilt when a reload changes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from syndicator.config import Config
from syndicator.glossary import load_glossary
from syndicator.http import HttpClient, client_for
from syndicator.localize import Catalogs
from syndicator.models import CycleReport
from syndicator.partners import PartnerRegistry
from syndicator.publish.writer import FeedWriter, make_writer, writer_settings
from syndicator.runner import InProcessRunner, Runner, Unit, UnitResult
from syndicator.store import Store, utcnow
from syndicator.translate import Engine, EngineOptions, shared_engine
from syndicator.translate.document import Faithful

log = logging.getLogger(__name__)


@dataclass
class Context:
    """Everything a cycle needs; built once per process from a validated Config."""

    config: Config
    store: Store
    writer: FeedWriter
    runner: Runner
    catalogs: Catalogs
    http: HttpClient  # one per context: sources' requests reuse its connections across pages and polls
    engines: dict[str, Engine] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    faithful: Faithful = field(default_factory=Faithful)  # glossary and protected spans
    # Categories left out of the public feeds (config/partners.toml, re-read when it changes).
    restricted: Callable[[], frozenset[str]] = frozenset
    # Called after every publish with its report and "" or the error: WebSub pings, the server's health.
    publish_listeners: list[Callable[[CycleReport, str], None]] = field(default_factory=list)
    # Whether this context has repaired the queue yet (a new context, e.g. after a reload, does it again).
    queue_checked: bool = False
    # Whether this context has compared the published tree with the store yet (its first publish does).
    tree_checked: bool = False
    # Target languages already warned about as waiting for a model: warned once while that lasts, not at
    # every pass (`status` and each run's summary keep the counts).
    no_model_warned: set[str] = field(default_factory=set)

    def engine_for(self, language: str) -> Engine:
        """The engine configured for a target language: the process's shared one (tests may put their own in
        `engines`)."""
        name = self.config.translation.engine_for(language)
        engine = self.engines.get(name)
        if engine is None:
            engine = self.engines[name] = shared_engine(name, EngineOptions.of(self.config))
        return engine

    def close(self) -> None:
        """Release the store and the HTTP connections."""
        self.store.close()
        self.http.close()


def open_context(
    config: Config,
    *,
    clock: Callable[[], datetime] = utcnow,
    runner: Runner | None = None,
    upgrade: bool = False,
) -> Context:
    """The context for a config: store, writer, catalogs, runner (default: units one after another in this
    process). `upgrade`: bring an older SQLite store to the code's schema first (`syndicator run`; see
    store/migrate.py)."""
    ctx = Context(
        config=config,
        store=Store(config.store.url, clock=clock, upgrade=upgrade),
        writer=make_writer(config),
        runner=runner or InProcessRunner(lambda unit: execute_unit(ctx, unit)),
        catalogs=Catalogs(config.publish.locales_dir),
        http=client_for(config),
        clock=clock,
        restricted=PartnerRegistry(config.partners_file, config.languages.all).restricted,
        faithful=Faithful(
            glossary=load_glossary(config.root),
            names=config.translation.protect_names,
            tags_language=config.languages.source,
        ),
    )
    if config.serve.hubs:
        from syndicator.publish.websub import publish_listener

        ctx.publish_listeners.append(publish_listener(config, ctx.http))
    return ctx


def execute_unit(ctx: Context, unit: Unit) -> UnitResult:
    """Translate one unit in this process with this context's engines (what in-process runners execute)."""
    from syndicator.pipeline.units import run_unit  # units.py builds on this module

    return run_unit(ctx, unit)


# Parts of the Context derived from config files (glossary, partners…) register a hook here; each gets the new
# Context and the previous Config when a reloaded config is put in force, and may set what it owns.
ReloadHook = Callable[[Context, Config], None]
RELOAD_HOOKS: list[ReloadHook] = []


def rebuild_context(old: Context, config: Config, runner: Runner) -> Context:
    """A Context for a new config: the store stays; engines stay unless [translation] changed."""
    if config.store.url != old.config.store.url:
        log.warning("store.url changed: it takes effect after a restart (still using %s)", old.store.url)
    same_translation = config.translation == old.config.translation
    ctx = replace(
        old,
        config=config,
        writer=old.writer if writer_settings(config) == writer_settings(old.config) else make_writer(config),
        runner=runner,
        catalogs=Catalogs(config.publish.locales_dir),
        http=old.http
        if (config.http, config.site.link) == (old.config.http, old.config.site.link)
        else client_for(config),
        faithful=replace(
            old.faithful, names=config.translation.protect_names, tags_language=config.languages.source
        ),
        # Loaded models stay loaded unless the engine settings changed.
        engines=old.engines if same_translation else {},
    )
    for hook in RELOAD_HOOKS:
        hook(ctx, old.config)
    return ctx
