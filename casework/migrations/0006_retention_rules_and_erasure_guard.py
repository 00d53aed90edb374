"""Retention rules seeded as data, and the one audited way an approved erasure may redact
personal text in append-only rows.

Retention periods. The domain notes give no retention schedule, so the seed follows common English
council practice (the Local Government Association / IRMS retention guidelines for local
authorities, and the six-year limitation periods of the Care Act 2014 s.69(3) and the Limitation
Act 1980 s.5):
- financial records of a client's care charges: 6 years after the account is settled (the last
  entry of an account with a nil balance); an account with a balance is never past retention;
- casework records (cases, notes, tasks, documents, letters): 6 years after the last case closed;
- the record of a client who has died: 6 years after the death (the s.69 clock keeps running after
  death, so the estate may still be pursued within that time).
All three are in force from 25 May 2018 (UK GDPR / Data Protection Act 2018). Councils change them
in the Django admin, adding a rule with new effective dates rather than editing an old one.

The erasure guard (PostgreSQL only). Timeline entries and letters are append-only: a trigger
refuses UPDATE and DELETE. Erasure must still replace the personal text they hold. The trigger on
those two tables is replaced by careledger_refuse_change_unless_erasing(), which:
- still refuses every DELETE;
- permits an UPDATE only inside a transaction that has set `careledger.erasure_request` (SET
  LOCAL, so it ends with the transaction) to the id of an erasure request that is APPROVED for the
  same client as the row, and only when every column other than the personal text columns is
  unchanged (timeline: summary, body, old_value, new_value; letter: recipient_name,
  recipient_address, postcode, file);
- records each row it lets through in casework_erasureredaction, so no redaction goes unrecorded.
Ledger entries keep the unconditional trigger: no erasure changes them.
"""
from datetime import date

from django.db import migrations

TIMELINE_KEPT = ["id", "client_id", "case_id", "kind", "action", "document_id", "letter_id", "actor_id",
                 "occurred_at", "created_at"]
LETTER_KEPT = ["id", "letter_type", "template_id", "client_id", "case_id", "run_item_id", "large_print", "pages",
               "sha256", "created_by_id", "created_at"]


def _same(columns):
    return ("(" + ", ".join(f"NEW.{c}" for c in columns) + ") IS NOT DISTINCT FROM ("
            + ", ".join(f"OLD.{c}" for c in columns) + ")")


FUNCTION = f"""
CREATE OR REPLACE FUNCTION careledger_refuse_change_unless_erasing() RETURNS trigger AS $$
DECLARE
    erasure_id bigint;
    allowed boolean := false;
BEGIN
    IF TG_OP = 'UPDATE' AND coalesce(current_setting('careledger.erasure_request', true), '') <> '' THEN
        erasure_id := current_setting('careledger.erasure_request', true)::bigint;
        IF TG_TABLE_NAME = 'casework_timelineentry' THEN
            allowed := {_same(TIMELINE_KEPT)};
        ELSIF TG_TABLE_NAME = 'casework_letter' THEN
            allowed := {_same(LETTER_KEPT)};
        END IF;
        IF allowed AND EXISTS (SELECT 1 FROM casework_erasurerequest
                               WHERE id = erasure_id AND status = 'approved' AND client_id = OLD.client_id) THEN
            INSERT INTO casework_erasureredaction (erasure_id, table_name, row_id, redacted_at)
                VALUES (erasure_id, TG_TABLE_NAME, OLD.id, now());
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'Rows of % are append-only: % refused (post a reversing entry instead)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql
"""
GUARDED = ["casework_timelineentry", "casework_letter"]


def guard_forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in GUARDED:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change_unless_erasing()", params=None)


def guard_backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in GUARDED:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION careledger_refuse_change()", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS careledger_refuse_change_unless_erasing()", params=None)


RULES = [
    ("financial", "account_closed", 6,
     "Care Act 2014 s.69(3) and Limitation Act 1980 s.5: six years; LGA retention guidelines (financial records)"),
    ("casework", "cases_closed", 6, "LGA / IRMS retention guidelines for local authorities: adult social care "
                                    "financial casework, six years after closure"),
    ("client", "death", 6, "Care Act 2014 s.69(3): the six-year recovery period keeps running after death"),
]


def seed(apps, schema_editor):
    RetentionRule = apps.get_model("casework", "RetentionRule")
    for kind, event, years, basis in RULES:
        RetentionRule.objects.get_or_create(record_kind=kind, event=event, effective_from=date(2018, 5, 25),
                                            defaults={"years": years, "basis": basis})


def unseed(apps, schema_editor):
    RetentionRule = apps.get_model("casework", "RetentionRule")
    for kind, event, _years, _basis in RULES:
        RetentionRule.objects.filter(record_kind=kind, event=event, effective_from=date(2018, 5, 25)).delete()


class Migration(migrations.Migration):
    dependencies = [("casework", "0005_privacy")]
    operations = [
        migrations.RunPython(guard_forward, guard_backward),
        migrations.RunPython(seed, unseed),
    ]
