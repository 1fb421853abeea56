"""Command line: argv → config → one command. The only place errors become exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from syndicator import __version__
from syndicator.config import Config, load_config, settings_help, settings_markdown
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.logs import FORMATS, setup_logging

log = logging.getLogger("syndicator")

EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syndicator",
        description="Translate a newsroom's articles offline and publish RSS, Atom and JSON feeds per language.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"syndicator {__version__}")
    parser.add_argument(
        "--config", type=Path, help="config file (default: $SYNDICATOR_CONFIG or config/syndicator.toml)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set publish.max_entries=20",
    )
    parser.add_argument("--debug", action="store_true", help="verbose logs with tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument(
        "--log-format", choices=FORMATS, default="text", help="text lines, or JSON lines for log collectors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("check", help="validate the configuration and exit (0 valid, 2 invalid)")
    run = sub.add_parser("run", help="poll, translate and publish on schedule (or once with --once)")
    run.add_argument("--once", action="store_true", help="one full cycle, then exit")
    status = sub.add_parser("status", help="sources, translations per language, missing models")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    models = sub.add_parser("models", help="translation models: list, install")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    msub.add_parser("list", help="installed packages and which configured pairs lack one")
    install = msub.add_parser("install", help="install local .argosmodel files (air-gapped installs)")
    install.add_argument("files", nargs="+", type=Path, metavar="FILE")
    sub.add_parser("settings", help="print every setting with its default (Markdown)")
    init = sub.add_parser("init", help="create a new instance folder: config, catalogs, empty folders")
    init.add_argument("directory", type=Path, metavar="DIR")
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
    args = _parser().parse_args(argv)
    setup_logging(args.debug, args.quiet, args.log_format)
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
        if args.command == "status":
            _status_of_broken_config(exc)
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
    langs = ", ".join(config.languages.all)
    print(f"{config.file}: OK ({len(config.sources)} source(s); languages {langs})")
    return EXIT_OK


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """One cycle, or the scheduler."""
    from syndicator.pipeline import open_context, run_cycle

    ctx = open_context(config)
    try:
        if not args.once:
            from syndicator.scheduler import Service

            if not Service(ctx, overrides=_overrides(args.set)).run():
                # Work still under way after run.stop_timeout is abandoned: its state stays pending in the
                # store (redone on the next start) and published files are whole, so leaving now is safe.
                logging.shutdown()
                os._exit(EXIT_OK)
            return EXIT_OK
        report = run_cycle(ctx)
    finally:
        ctx.close()
    print(
        f"articles: {report.new} new, {report.updated} updated, {report.unchanged} unchanged; "
        f"{len(report.problems)} problem(s); {len(report.written)} file(s) written to {config.publish.feeds_dir}"
    )
    for lang in config.languages.all:
        parts = [f"{n} {what}" for what, n in (("translated", report.translated.get(lang, 0)),
                 ("failed", report.failed.get(lang, 0)), ("without a model", report.no_model.get(lang, 0))) if n]  # fmt: skip
        if parts:
            print(f"  {lang}: {', '.join(parts)}")
    for p in report.problems:
        print(f"  problem: {p.origin}: {p.message}")
    if report.no_model:
        print("  some languages have no translation model yet: see `syndicator models list`")
    return EXIT_OK


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    """What the instance holds and what is wrong."""
    from syndicator.status import collect_status, format_status

    data = collect_status(config)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(format_status(data))
    return EXIT_OK


def _status_of_broken_config(exc: ConfigError) -> None:
    """The file on disk is invalid: say whether a running service rejected it and kept the previous config."""
    from syndicator.reload import last_reload_error
    from syndicator.status import format_reload_error

    file = next((p.file for p in exc.problems if p.file), None)
    if file is None:
        return
    root = file.parent.parent if file.parent.name == "config" else file.parent
    err = last_reload_error(root)
    if err is not None:
        print("\n".join(format_reload_error(err)), file=sys.stderr)


def cmd_models(config: Config, args: argparse.Namespace) -> int:
    """List or install translation models."""
    from syndicator.status import coverage
    from syndicator.translate import packages

    if args.models_command == "install":
        from syndicator.progress import progress

        for file in progress(args.files, "installing models"):
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
        print(f"  {row['source']} → {row['target']}: {row['engine']}, {row['covered']}")
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


COMMANDS: dict[str, Any] = {"check": cmd_check, "run": cmd_run, "status": cmd_status, "models": cmd_models}
