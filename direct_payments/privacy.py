"""What the direct payments app adds to a client's subject access export beyond the rows the generic
collector finds: the bank statements uploaded for the client's audits (rows and the files as
uploaded). Statement uploads point at the client through the audit and the agreement, two steps,
which the generic collector does not follow."""
from casework.privacy.registry import FileRef, Section, rows_of


def direct_payment_records(client) -> list[Section]:
    from .models import StatementUpload

    uploads = list(StatementUpload.objects.filter(audit__agreement__client=client)
                   .select_related("audit", "audit__agreement").order_by("audit_id", "id"))
    files = [
        FileRef(f"direct-payment-statements/{upload.pk}-{upload.original_name}", upload.file.name, upload.file.storage,
                description=(f"Bank statement uploaded for the audit of agreement {upload.audit.agreement.reference}, "
                             f"{upload.first_date:%d/%m/%Y} to {upload.last_date:%d/%m/%Y}"))
        for upload in uploads if upload.file]
    return [Section("direct_payments_statementupload", "Direct payment bank statements uploaded for audits",
                    rows_of(uploads), ["direct_payments.statementupload"], files)]
