"""What a refused translation depended on (short articles refused, then retried for nothing).

A translation the quality gate refused is not retried on a timer any more: the same engine, model, glossary
and gate settings give the same output and the same refusal. `depends` holds a fingerprint of those
(translate/quality.py, `depends_on`); it is retried when the current fingerprint differs (or when its
article changes, as before). Existing failed rows get "" and keep their timed retries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.add_column(sa.Column("depends", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("depends")
