"""Language codes stored in their BCP 47 spelling (issue 14).

Configured codes are read in their BCP 47 spelling since this revision's code ("pt_BR" is "pt-BR", "iw" is
"he": syndicator/config/languages.py, bcp47). A store filled while an instance was configured as "pt_BR"
would otherwise meet "pt-BR" as a new language: every article queued for it again, and its translations,
sentence memory and feed state left behind. Every stored spelling is rewritten to the one the config now
gives. A value whose new spelling is stored already is left as it is (the two were two languages before).
The feeds folder is not touched: the next publish writes feeds/pt-BR/, and the old folder stays until an
admin removes it (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from syndicator.config.languages import bcp47

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LANGUAGE_COLUMNS = (
    "articles",
    "translations",
    "corrections",
    "backlog_samples",
    "feed_entries",
    "publish_marks",
    "publish_journal",
)
PAIR_TABLES = ("memory", "memory_stats")  # the sentence memory; pair: "<source>><target>"
STATE_PREFIXES = ("publish:", "publish_wanted:", "publish_error:")  # service_state keys ending in a language


def _pair(value: str) -> str:
    source, sep, target = value.partition(">")
    return f"{bcp47(source)}>{bcp47(target)}" if sep else value


def _state(value: str) -> str:
    prefix = next((p for p in STATE_PREFIXES if value.startswith(p)), None)
    return prefix + bcp47(value[len(prefix) :]) if prefix else value


def _respell(table: str, column: str, spell: Callable[[str], str]) -> None:
    conn = op.get_bind()
    col = sa.column(column, sa.String)
    t = sa.table(table, col)
    values = {row[0] for row in conn.execute(sa.select(col).select_from(t).distinct())}
    for old in sorted(values):
        new = spell(old)
        if new != old and new not in values:
            conn.execute(t.update().where(col == old).values({column: new}))


def upgrade() -> None:
    for table in LANGUAGE_COLUMNS:
        _respell(table, "language", bcp47)
    for table in PAIR_TABLES:
        _respell(table, "pair", _pair)
    _respell("service_state", "key", _state)


def downgrade() -> None:
    pass  # the old code reads both spellings' rows as they are now: nothing to undo
