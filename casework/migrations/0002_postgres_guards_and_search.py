"""PostgreSQL only: refuse UPDATE and DELETE of ledger and timeline rows at the database, and
trigram indexes for finding clients by part of a name, reference or postcode.

On SQLite (the embedded demo) this migration does nothing: the models refuse changes themselves.
"""
from django.db import migrations

APPEND_ONLY_TABLES = ["casework_ledgerentry", "casework_timelineentry"]

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """
    CREATE OR REPLACE FUNCTION careledger_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'Rows of % are append-only: % refused (post a reversing entry instead)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    *[
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()"
        for table in APPEND_ONLY_TABLES
    ],
    # Django's icontains on PostgreSQL is UPPER(col::text) LIKE UPPER(...): index that expression.
    *[
        f"CREATE INDEX IF NOT EXISTS client_{col}_trgm ON casework_client USING gin ((UPPER({col}::text)) gin_trgm_ops)"
        for col in ["last_name", "first_name", "reference", "postcode"]
    ],
]
BACKWARD = [
    *[f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in APPEND_ONLY_TABLES],
    "DROP FUNCTION IF EXISTS careledger_refuse_change()",
    *[f"DROP INDEX IF EXISTS client_{col}_trgm" for col in ["last_name", "first_name", "reference", "postcode"]],
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
