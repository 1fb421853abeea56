"""Command line: argv → config → one command. The only place errors become exit codes."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicator import __version__
from syndicator.config import Config, format_duration, load_config, settings_help, settings_markdown
from syndicator.errors import ConfigError, InstanceBusy, SyndicatorError
from syndicator.logs import FORMATS, setup_logging

log = logging.getLogger("syndicator")

EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2


def _command(commands: Any, name: str, **options: Any) -> argparse.ArgumentParser:
    """A sub-command whose `--help` opens with what it does (its one-line help, as a sentence)."""
    text = str(options.get("help", ""))
    options.setdefault("description", text[:1].upper() + text[1:] + "." if text else None)
    parser: argparse.ArgumentParser = commands.add_parser(name, **options)
    return parser


def _global_options(parser: argparse.ArgumentParser, late: bool, dest: str = "set_late") -> None:
    """The options every command takes. `late` declares them again for after the command's name
    (`syndicator serve --set serve.port=8081`): defaults suppressed, so they only override what was given.
    `dest`: where a late --set goes; each level of sub-commands needs its own (argparse copies a
    sub-command's values over its parent's, so `models --set a=1 list --set b=2` would lose a=1)."""
    suppressed: Any = argparse.SUPPRESS  # typeshed wants each option's own default type
    quiet: dict[str, Any] = {"default": suppressed} if late else {}
    parser.add_argument(
        "--config",
        type=Path,
        help="config file (default: $SYNDICATOR_CONFIG or config/syndicator.toml)",
        **quiet,
    )
    parser.add_argument(
        "--set",
        action="append",
        dest=dest if late else "set",
        default=suppressed if late else [],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set publish.max_entries=20",
    )
    parser.add_argument("--debug", action="store_true", help="verbose logs with tracebacks", **quiet)
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="only errors (a command's own summary still prints)",
        **quiet,
    )
    parser.add_argument(
        "--log-format", choices=FORMATS, help="text lines, or JSON lines for log collectors",
        **(quiet or {"default": "text"}),
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syndicator",
        description="Translate a newsroom's articles offline and publish RSS, Atom and JSON feeds per language.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"syndicator {__version__}")
    _global_options(parser, late=False)
    late = argparse.ArgumentParser(add_help=False)
    _global_options(late, late=True)
    inner = argparse.ArgumentParser(add_help=False)  # the same, after a sub-command's action: `models list`
    _global_options(inner, late=True, dest="set_inner")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _command(sub, "check", parents=[late], help="validate the configuration and exit (0 valid, 2 invalid)")
    run = _command(
        sub, "run", parents=[late], help="poll, translate and publish on schedule (or once with --once)"
    )
    run.add_argument("--once", action="store_true", help="one full cycle, then exit")
    publish = _command(
        sub, "publish", parents=[late], help="publish what the store holds (no polling, no translating)"
    )
    publish.add_argument(
        "--rebuild", action="store_true", help="rewrite every page and archive, not only changes"
    )
    withdraw = _command(
        sub,
        "withdraw",
        parents=[late],
        help="take an article down from every feed, entry page and the landing page (--undo puts it back)",
        description="Take an article down: it leaves every language's feeds, archives, entry pages, partner "
        "feeds and the landing page, and stays in the store, so its source offering it again does not bring "
        "it back. Removing a drop file does not do this. With a running service the change is published "
        "within a minute; otherwise at once.",
    )
    withdraw.add_argument(
        "source", metavar="SOURCE", help="the source's name ([[source]] name in the config)"
    )
    withdraw.add_argument(
        "article",
        metavar="ID",
        help="the article's id in its source, as logged when it was stored ('new article ID from …')",
    )
    withdraw.add_argument("--reason", default="", help="why, for the record (`status` lists takedowns)")
    withdraw.add_argument("--undo", action="store_true", help="put a withdrawn article back")
    verify = _command(
        sub,
        "verify",
        parents=[late],
        help="check the store and that the published feeds hold every entry once (exit 1 if not)",
    )
    verify.add_argument(
        "--repair", action="store_true", help="republish from the store what is found wrong, then check again"
    )
    status = _command(
        sub, "status", parents=[late], help="sources, translations per language, missing models"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    models = _command(sub, "models", parents=[late], help="translation models: list, install, remove")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    _command(msub, "list", parents=[inner], help="installed packages and which configured pairs lack one")
    install = _command(
        msub,
        "install",
        parents=[inner],
        help="install local .argosmodel files, or with --online the packages for languages",
    )
    install.add_argument("files", nargs="+", metavar="FILE|LANG")
    install.add_argument(
        "--online",
        action="store_true",
        help="download the packages for these target languages (and pivot halves) from translation.index_url",
    )
    remove = _command(msub, "remove", parents=[inner], help="remove installed packages, e.g. en-fr")
    remove.add_argument("pairs", nargs="+", metavar="PAIR")
    migrate = _command(
        sub,
        "migrate",
        parents=[late],
        help="create or upgrade the store's schema (store.url); --to copies the store into another database",
    )
    migrate.add_argument(
        "--to",
        metavar="URL",
        help="then copy every row into this new, empty database, e.g. postgresql+psycopg://syndicator@db/syndicator",
    )
    worker = _command(
        sub,
        "worker",
        parents=[late],
        help="translate on this machine for a distributed instance (run.runner = celery)",
    )
    worker.add_argument(
        "--pairs", default="", help="language pairs whose queues to consume, e.g. en-fr,en-ar (default: all)"
    )
    worker.add_argument(
        "--publish", action="store_true", help="also publish feeds (where the feed writer can write)"
    )
    worker.add_argument(
        "--concurrency", type=int, default=1, help="worker processes, each with its own models (default 1)"
    )
    _command(sub, "settings", parents=[late], help="print every setting with its default (Markdown)")
    init = _command(
        sub, "init", parents=[late], help="create a new instance folder: config, catalogs, empty folders"
    )
    init.add_argument(
        "directory", type=Path, metavar="DIR", help="the new instance's folder (created if missing)"
    )
    _command(sub, "serve", parents=[late], help="serve feeds/ over HTTP (syndicator run does this too)")
    partners = _command(sub, "partners", parents=[late], help="partner pull statistics; add a partner")
    partners.add_argument("--days", type=int, default=7, help="period of the statistics (default 7)")
    partners.add_argument("--json", action="store_true", help="machine-readable output")
    psub = partners.add_subparsers(dest="partners_command", metavar="ACTION")
    padd = _command(
        psub,
        "add",
        parents=[inner],
        help="add a partner to config/partners.toml and print its new token once",
    )
    padd.add_argument("name")
    padd.add_argument("--languages", default="", help="comma-separated languages (default: all)")
    nginx = _command(
        sub, "nginx-config", parents=[late], help="print an nginx server block serving feeds/ the same way"
    )
    nginx.add_argument("--listen", default="80", help="nginx listen address (default 80)")
    nginx.add_argument("--upstream", default="", help="the built-in server's URL (default from [serve])")
    return parser


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE", hint="e.g. --set site.title=Newsroom")
        out[key.strip()] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`syndicator settings | head`): the rest of the output is not wanted, which is
        # not an error. Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    args.set = [*args.set, *getattr(args, "set_late", []), *getattr(args, "set_inner", [])]
    setup_logging(args.debug, args.quiet, args.log_format)
    config: Config | None = None  # stays None when the config file (or a --set) is what is wrong
    try:
        if args.command == "settings":
            print(settings_markdown())
            return EXIT_OK
        if args.command == "init":
            return cmd_init(args)
        config = load_config(args.config, overrides=_overrides(args.set))
        return COMMANDS[args.command](config, args)
    except ConfigError as exc:
        print(f"syndicator: configuration error: {exc}", file=sys.stderr)
        if exc.hint and len(exc.problems) == 1 and exc.hint not in str(exc):
            print(f"hint: {exc.hint}", file=sys.stderr)
        if config is None and _reads_only(args):
            return _with_config_in_force(exc, args)
        return EXIT_CONFIG
    except SyndicatorError as exc:
        if args.debug:
            log.exception("failed")
        print(f"syndicator: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    """Validate only."""
    from syndicator.glossary import load_glossary
    from syndicator.status import config_warnings

    partners = _check_partners(config)
    glossary = load_glossary(config.root)  # raises ConfigError naming config/glossary.toml
    langs = ", ".join(config.languages.all)
    print(f"{config.file}: OK ({len(config.sources)} source(s); languages {langs})")
    if glossary.file is not None:
        print(f"{glossary.file}: OK ({len(glossary.terms)} term(s))")
    if config.partners_file.exists():
        print(f"{config.partners_file}: OK ({len(partners.partners)} partner(s))")
    for warning in config_warnings(config):
        print(f"warning: {warning}")
    return EXIT_OK


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """One cycle, or the scheduler."""
    from syndicator.lock import lock_instance
    from syndicator.pipeline import execute_unit, open_context, run_cycle
    from syndicator.runner import make_runner
    from syndicator.status import config_warnings

    _check_partners(config)
    for warning in config_warnings(config):
        log.warning("%s", warning)
    _load_runner(config)
    with lock_instance(config, "run" if not args.once else "run --once"):
        # An embedded SQLite store is upgraded in place: the service is its only user (store/migrate.py).
        ctx = open_context(config, upgrade=True)
        try:
            if not args.once:
                from syndicator.service import Service

                if not Service(ctx, overrides=_overrides(args.set)).run():
                    # Work still under way after run.stop_timeout is abandoned: its state stays pending in
                    # the store (redone on the next start) and published files are whole, so leaving now is
                    # safe. The exit code says the stop was not clean (a supervisor or script can tell).
                    print(
                        f"syndicator: stopped after run.stop_timeout ({format_duration(config.run.stop_timeout)}) with work "
                        "abandoned; it is redone on the next start",
                        file=sys.stderr,
                    )
                    logging.shutdown()
                    os._exit(EXIT_ERROR)
                return EXIT_OK
            # One unit at a time here (the service runs translation.workers at once), or on the workers.
            ctx.runner = make_runner(config, lambda unit: execute_unit(ctx, unit))
            report = run_cycle(ctx)
            # Standing refusals too, not only this cycle's: a refusal is not retried on a timer, so a later run
            # would otherwise not mention the entries missing from a language's feed.
            unpublished: dict[str, list[str]] = {}
            for tr in ctx.store.failures():
                unpublished.setdefault(tr.language, []).append(tr.error)
        finally:
            ctx.close()
    print(
        f"articles: {report.new} new, {report.updated} updated, {report.unchanged} unchanged"
        + (f", {report.duplicates} duplicate(s)" if report.duplicates else "")
        + "; "
        f"{len(report.problems)} problem(s); {len(report.written)} file(s) written to {config.publish.location}"
    )
    for lang in config.languages.all:
        parts = [f"{n} {what}" for what, n in (("translated", report.translated.get(lang, 0)),
                 ("failed", report.failed.get(lang, 0)), ("without a model", report.no_model.get(lang, 0)),
                 ("still queued", report.queued.get(lang, 0))) if n]  # fmt: skip
        if parts:
            print(f"  {lang}: {', '.join(parts)}")
        if errors := unpublished.get(lang):
            # Reasons carry each article's own numbers ("length ratio 0.56"): one example, the most common.
            reason = Counter(errors).most_common(1)[0][0]
            print(f"  {lang}: {len(errors)} not published (refused or failed), e.g. {reason}")
    for lang, n in sorted(report.corrected.items()):
        print(f"  {lang}: {n} human correction(s) applied")
    # Each problem is shown once: the warnings logged above are not repeated (unless -q hid them).
    warned = log.isEnabledFor(logging.WARNING)
    for p in report.problems:
        if not (warned and f"{p.origin}: {p.message}" in report.announced):
            print(f"  problem: {p.origin}: {p.message}")
    if report.no_model and not warned:
        print("  some languages have no translation model yet: see `syndicator models list`")
    return EXIT_OK


def _load_runner(config: Config) -> None:
    """Register the configured runner (syndicator/runner.py): Celery is imported only when configured."""
    if config.run.runner == "celery":
        try:
            import syndicator.distributed  # noqa: F401  registers the celery runner
        except ImportError as exc:
            raise ConfigError(
                f"run.runner = celery needs Celery installed ({exc})",
                hint="pip install 'syndicator[distributed]'",
            ) from exc


def cmd_worker(config: Config, args: argparse.Namespace) -> int:
    """A Celery worker for the given language pairs (docs/scale-out.md)."""
    if config.run.runner != "celery":
        raise ConfigError(
            f"syndicator worker serves run.runner = celery (this instance: {config.run.runner!r})",
            hint='set [run] runner = "celery" and broker = "amqp://…" (docs/scale-out.md)',
        )
    if args.concurrency < 1:
        raise ConfigError("--concurrency must be at least 1")
    _load_runner(config)
    from syndicator.distributed.worker import parse_pairs, run_worker

    level = "DEBUG" if args.debug else "ERROR" if args.quiet else "INFO"
    pairs = parse_pairs(config, args.pairs)
    return run_worker(config, pairs, publish=args.publish, concurrency=args.concurrency, loglevel=level)


def cmd_publish(config: Config, args: argparse.Namespace) -> int:
    """Publish from the store: changes only, or everything with --rebuild."""
    from syndicator.lock import lock_instance
    from syndicator.models import CycleReport
    from syndicator.pipeline import open_context, publish

    with lock_instance(config, "publish"):
        ctx = open_context(config)
        report = CycleReport()
        try:
            publish(ctx, report, rebuild=args.rebuild)
        finally:
            ctx.close()
    print(f"{len(report.written)} file(s) written to {config.publish.location}")
    return EXIT_OK


def cmd_withdraw(config: Config, args: argparse.Namespace) -> int:
    """Mark an article taken down (or back), then publish, unless a running service will."""
    from syndicator.lock import lock_instance
    from syndicator.models import CycleReport
    from syndicator.pipeline import open_context, publish

    with contextlib.ExitStack() as held:
        try:
            held.enter_context(lock_instance(config, "withdraw"))
            running = False
        except InstanceBusy:
            running = True  # the service's housekeeping sees the change and republishes
        ctx = open_context(config)
        held.callback(ctx.close)
        now = None if args.undo else datetime.now(UTC)
        article = ctx.store.withdraw(args.source, args.article, "" if args.undo else args.reason, now)
        if article is None:
            raise SyndicatorError(
                f"no article {args.article!r} from source {args.source!r} in the store",
                hint="the id is the one logged as 'new article ID from …' (a drop file's `id:`, else its name)",
            )
        what = f"{args.source}/{args.article} ({article.title})"
        if running:
            print(f"{'put back' if args.undo else 'withdrawn'}: {what}; the running service republishes it "
                  "within a minute")  # fmt: skip
            return EXIT_OK
        report = CycleReport()
        publish(ctx, report)
    print(f"{'put back' if args.undo else 'withdrawn'}: {what}; {len(report.written)} file(s) written, "
          f"{len(report.deleted)} removed")  # fmt: skip
    return EXIT_OK


def cmd_verify(config: Config, args: argparse.Namespace) -> int:
    """Compare the published tree with the store; with --repair, republish what is wrong and check again."""
    from syndicator.integrity import repair, require_clean, verify
    from syndicator.lock import lock_instance
    from syndicator.pipeline import open_context

    with lock_instance(config, "verify"):  # nothing may publish while the two are compared
        ctx = open_context(config)
        try:
            found = verify(ctx)
            for finding in found.findings:
                print(f"  {finding}")
            print(found.summary())
            repaired = args.repair and bool(found.findings or found.integrity != "ok")
            if repaired:
                written = repair(ctx, found)
                print(f"repaired from the store: {len(written)} file(s) written to {config.publish.location}")
                found = verify(ctx)
                for finding in found.findings:
                    print(f"  still: {finding}")
                print(found.summary())
        finally:
            ctx.close()
    require_clean(found, repaired)
    return EXIT_OK


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    """What the instance holds and what is wrong."""
    from syndicator.config import problems_of
    from syndicator.status import collect_status, format_status

    data = collect_status(config)
    if error := getattr(args, "config_error", None):  # the file on disk is invalid; `config` is in force
        data["config_error"] = {"file": str(config.file), "problems": problems_of(error)}
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(format_status(data))
    return EXIT_OK


def _reads_only(args: argparse.Namespace) -> bool:
    """The commands an operator reads the instance with during an incident: they still work, on the running
    service's config, while the file on disk holds an edit it rejected (docs/operations.md)."""
    return (
        args.command == "status"
        or (args.command == "verify" and not args.repair)
        or (args.command == "models" and args.models_command == "list")
        or (args.command == "partners" and args.partners_command is None)
    )


def _with_config_in_force(error: ConfigError, args: argparse.Namespace) -> int:
    """The config on disk is invalid (already printed): run a read-only command on the config the running
    service recorded as the one it is on. Exit 2 still (the file must be fixed before the next start),
    unless the command itself failed (its own code then, e.g. verify's 1)."""
    from syndicator.config import config_in_force, load_config_text
    from syndicator.status import service_state

    file = next((p.file for p in error.problems if p.file), None)
    in_force = config_in_force(file) if file is not None else None
    if in_force is None:
        return EXIT_CONFIG  # no service recorded a config: nothing runs on another one
    since = datetime.fromisoformat(in_force.since)
    state = service_state((json.dumps({"pid": in_force.pid, "host": in_force.host}), since))
    if not state.startswith("running"):
        return EXIT_CONFIG  # it stopped (or died): the next start reads the broken file
    config = in_force.config
    if args.set:  # the command's own --set, over the service's (an invalid one was the error: nothing to add)
        try:
            config = load_config_text(
                config.file, config.text, {**in_force.overrides, **_overrides(args.set)}
            )
        except ConfigError:
            return EXIT_CONFIG
    what = " ".join(w for w in (args.command, getattr(args, "models_command", None)) if w)
    print(
        f"syndicator: the service is {state}, on the config it accepted at {in_force.since}; "
        f"`{what}` below reads the instance with that config",
        file=sys.stderr,
    )
    args.config_error = error
    try:
        code = int(COMMANDS[args.command](config, args))
    except ConfigError as exc:  # another file (partners.toml) is broken too
        print(f"syndicator: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SyndicatorError as exc:
        print(f"syndicator: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return code or EXIT_CONFIG


def cmd_migrate(config: Config, args: argparse.Namespace) -> int:
    """Bring the store to the code's schema revision; with --to, copy it into another database."""
    from syndicator.store import connect, database_url
    from syndicator.store.migrate import copy_store, upgrade

    def shown(url: str) -> str:
        return database_url(url).render_as_string(hide_password=True)

    source = connect(config.store.url)
    try:
        before, after = upgrade(source)
        done = "already at" if before == after else f"{before.describe()} → upgraded to"
        print(f"store {shown(config.store.url)}: {done} revision {after.revision}")
        if args.to:
            target = connect(args.to)
            try:
                upgrade(target)
                counts = copy_store(source, target)
            finally:
                target.dispose()
            rows = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
            print(f"copied into {shown(args.to)}: {rows or 'no rows'}")
            print(f'next: set [store] url = "{shown(args.to)}" in {config.file} and start syndicator again')
    finally:
        source.dispose()
    return EXIT_OK


def cmd_models(config: Config, args: argparse.Namespace) -> int:
    """List or install translation models."""
    from syndicator.status import coverage
    from syndicator.translate import packages

    if args.models_command == "remove":
        for pair in args.pairs:
            for pkg in packages.remove(pair, config.translation.packages_dir):
                print(f"removed {pkg.source} → {pkg.target} (version {pkg.version or '?'})")
        return EXIT_OK
    if args.models_command == "install" and args.online:
        from syndicator.http import client_for
        from syndicator.translate.online import install_online

        t = config.translation
        install_online(client_for(config), t.index_url, config.languages.source, args.files, t.pivot,
                       t.packages_dir, progress=not args.quiet)  # fmt: skip
        return EXIT_OK
    if args.models_command == "install":
        from syndicator.progress import progress

        for file in progress(list(map(Path, args.files)), "installing models"):
            pkg = packages.install(file, config.translation.packages_dir)
            print(f"installed {pkg.source} → {pkg.target} (version {pkg.version or '?'}) in {pkg.path}")
        return EXIT_OK
    found, problems = packages.scan(config.translation.packages_dir)
    print(f"packages in {config.translation.packages_dir}:")
    for pkg in found:
        print(
            f"  {pkg.source} → {pkg.target}  version {pkg.version or '?'}  {pkg.size / 1e6:.1f} MB  {pkg.path.name}"
        )
    if not found:
        print("  (none)")
    for msg in problems:
        print(f"  not a package: {msg}")
    print("configured pairs:")
    for row in coverage(config):
        model = f" ({row['model']})" if row["model"] else ""
        hint = f"  <-- {row['hint']}" if row["hint"] else ""
        print(f"  {row['source']} → {row['target']}: {row['engine']}, {row['covered']}{model}{hint}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """Scaffold a new instance folder."""
    from syndicator.scaffold import init_instance

    created = init_instance(args.directory)
    print(f"created the instance {args.directory}:")
    for path in created:
        print(f"  {path}")
    config = args.directory / "config" / "syndicator.toml"
    print(f"next: edit {config}, then `syndicator --config {config} check` and `... run --once`")
    return EXIT_OK


def _check_partners(config: Config) -> Any:
    """Validate config/partners.toml (a ConfigError names its file, line and key)."""
    from syndicator.partners import load_partners

    return load_partners(config.partners_file, config.languages.all)


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    """Serve feeds/ in the foreground."""
    from syndicator.glossary import load_glossary
    from syndicator.localize import Catalogs
    from syndicator.serve.server import FeedServer, listen_hint
    from syndicator.store import Store

    _check_partners(config)
    glossary = load_glossary(config.root)  # partner feeds' categories, as in `run`
    store = Store(config.store.url)
    try:
        try:
            server = FeedServer(config, store, Catalogs(config.publish.locales_dir), glossary=glossary)
        except OSError as exc:
            raise SyndicatorError(
                f"cannot listen on {config.serve.host}:{config.serve.port}: {exc.strerror or exc}",
                hint=listen_hint(exc),
            ) from exc
        server.serve_forever()  # it logs where it serves, once
    finally:
        store.close()
    return EXIT_OK


def cmd_partners(config: Config, args: argparse.Namespace) -> int:
    """Partner pull statistics, or add a partner."""
    from datetime import UTC, datetime, timedelta

    from syndicator.partner_report import format_report, partner_report
    from syndicator.partners import add_partner
    from syndicator.store import Store

    if args.partners_command == "add":
        languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
        token = add_partner(config.partners_file, args.name, languages, config.languages.all)
        base = f"{config.site.feeds_url}p/{token}/"
        print(f"added partner {args.name!r} to {config.partners_file}")
        print(f"token (shown once, only its hash is stored): {token}")
        print(f"feeds: {base}LANG/atom.xml (or rss.xml, feed.json); or send 'Authorization: Bearer TOKEN'")
        return EXIT_OK
    partners = _check_partners(config)
    now = datetime.now(UTC)
    days = max(1, args.days)
    store = Store(config.store.url)
    try:
        since = (now - timedelta(days=days - 1)).strftime("%Y-%m-%d")
        rows = partner_report(
            store.pull_stats(since), store.last_pulls(), [p.name for p in partners.partners], days,
            config.serve.stale_after, now,
        )  # fmt: skip
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    else:
        print(format_report(rows, days, format_duration(config.serve.stale_after)))
    return EXIT_OK


def cmd_nginx_config(config: Config, args: argparse.Namespace) -> int:
    """Print the nginx server block."""
    from syndicator.serve.nginx import nginx_config

    print(nginx_config(config, listen=args.listen, upstream=args.upstream), end="")
    return EXIT_OK


COMMANDS: dict[str, Any] = {
    "check": cmd_check,
    "run": cmd_run,
    "publish": cmd_publish,
    "verify": cmd_verify,
    "withdraw": cmd_withdraw,
    "status": cmd_status,
    "models": cmd_models,
    "migrate": cmd_migrate,
    "worker": cmd_worker,
    "serve": cmd_serve,
    "partners": cmd_partners,
    "nginx-config": cmd_nginx_config,
}
