"""Kameleoon's documented fields: where an experiment runs, its global script, the site's tracking script, and
the fields kept as given

`targeting_configuration` and `global_script` on experiments and `tracking_script` on sites have a meaning (the
page engine reads them). `stored_fields` holds, per object, the fields Kameleoon's reference documents that
Versicolor has no meaning for yet: they are returned as they were given (docs/compatibility.md).

Revision ID: 0017_kameleoon_fields
Revises: 0016_key_rotation
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_kameleoon_fields"
down_revision: str | None = "0016_key_rotation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("experiments", "variations", "goals", "segments", "custom_data", "sites")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("stored_fields", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("targeting_configuration", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("global_script", sa.Text(), nullable=True))
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_script", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("tracking_script")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_column("global_script")
        batch_op.drop_column("targeting_configuration")
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("stored_fields")
