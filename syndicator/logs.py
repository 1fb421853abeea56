"""Log setup: readable lines for people, or JSON lines (one object per line) for log collectors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else was passed with extra={...} and goes into the JSON object.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the extras, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        # default=str: an extra that is a Path or datetime must not cost the whole line.
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(debug: bool = False, quiet: bool = False, fmt: str = "text") -> None:
    """Configure the root logger for the command line (replacing any earlier setup)."""
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.INFO
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    quiet_libraries = logging.WARNING if not debug else logging.DEBUG
    # Library chatter (apscheduler's per-job lines, watchfiles' change sets, alembic's plugin list on every
    # store creation, botocore's credential lookups) drowns the service's own messages.
    for name in ("apscheduler", "argostranslate", "watchfiles", "alembic", "botocore", "boto3"):
        logging.getLogger(name).setLevel(quiet_libraries)
