"""ids are never reused: SQLite tables whose ids the database generates become AUTOINCREMENT tables

Without AUTOINCREMENT, SQLite gives a new row the largest id in its table plus one, so deleting the newest row
let its id name the next object made. Each such table is rebuilt (SQLite cannot add AUTOINCREMENT to a table in
place): a copy declared AUTOINCREMENT takes every row, index, unique and foreign key, and its counter starts at
the largest id it holds. An id deleted from the top of a table before this upgrade cannot be known any more;
every id from then on is new. PostgreSQL's sequences already never hand out an id twice: nothing changes there.

Revision ID: 0018_ids_never_reused
Revises: 0017_kameleoon_fields
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_ids_never_reused"
down_revision: str | None = "0017_kameleoon_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table of revision 0017 whose primary key is one integer the database generates.
_TABLES = (
    "accounts",
    "callback_keys",
    "oauth_apps",
    "sites",
    "users",
    "api_credentials",
    "custom_data",
    "goals",
    "oauth_authorizations",
    "segments",
    "sign_in_sessions",
    "experiments",
    "oauth_codes",
    "oauth_refresh_tokens",
    "experiment_deviation_changes",
    "result_reports",
    "variations",
)


def _rebuild(autoincrement: bool) -> None:
    # The migration environment turns SQLite's foreign keys off while the chain runs (a dropped table would
    # otherwise cascade into its children) and checks every reference before it commits.
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
