"""PostgreSQL only: letters, letter template versions and run events are append-only at the database too."""
from django.db import migrations

TABLES = ["casework_letter", "casework_lettertemplate", "casework_runevent"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()",
            params=None,
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("casework", "0003_runs_and_letters")]
    operations = [migrations.RunPython(forward, backward)]
