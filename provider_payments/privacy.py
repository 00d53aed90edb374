"""What the provider payments app adds to a client's subject access export: the remittance advices
that name the client. A remittance advice is the provider's document and lists the provider's other
clients too, so the export holds the client's extract of each (only the lines about the client),
made when the export is built. The rows of claim lines and care packages that point at the client
are found by the generic collector."""
from casework.privacy.registry import FileRef, Section, row_of


def remittance_records(client) -> list[Section]:
    from .services.payment_run import remittance_extract, remittances_naming

    payments = list(remittances_naming(client))
    rows = [row_of(p, {"run_reference": p.payment_run.reference, "provider_name": p.provider.name}) for p in payments]
    files = [
        FileRef(f"remittances/{p.payment_run.reference}-{p.provider.supplier_number}-extract.pdf",
                content=remittance_extract(p, client),
                description=(f"Extract of remittance advice {p.payment_run.reference} to {p.provider.name}, "
                             "with only the lines about the client"))
        for p in payments]
    return [Section("provider_remittances", "Remittance advices to care providers that name the client", rows, [], files)]
