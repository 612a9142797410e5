"""sites: the page engine's anti-flicker timeout and consent setting

Revision ID: 0010_site_engine_settings
Revises: 0009_tracking_rollups
Create Date: 2026-12-07 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_site_engine_settings"
down_revision: str | None = "0009_tracking_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anti_flicker_timeout", sa.Integer(), server_default="1000", nullable=False))
        batch_op.add_column(sa.Column("consent_required", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("consent_required")
        batch_op.drop_column("anti_flicker_timeout")
