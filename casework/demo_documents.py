"""Documents for the demo data: real one-page PDFs, made with the letter renderer from
casework/templates/casework/demo/document.html, so that opening a demo document shows a page
(a letter from another organisation, as if scanned and uploaded)."""
from dataclasses import dataclass
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string

from casework.letters.pdf import render_pdf

TEMPLATE = "casework/demo/document.html"


@dataclass(frozen=True)
class Sender:
    name: str
    address: tuple[str, ...]
    phone: str
    signatory: str


#: Made-up organisations that send documents the demo cases hold.
HOSPITAL = Sender("Northmoor General Hospital", ("Department of Old Age Psychiatry", "Infirmary Road", "Northmoor",
                                                 "NM3 4HS"), "01632 960100", "Dr S Morgan, consultant psychiatrist")
SOLICITORS = Sender("Fellgate & Co Solicitors", ("14 Market Street", "Northmoor", "NM1 3FG"), "01632 960200",
                    "R Fellgate, solicitor")
COURT = Sender("Court of Protection", ("PO Box 70185", "First Avenue House", "London", "WC1A 9JA"), "0300 456 4600",
               "Court of Protection")
COUNCIL_OFFICE = Sender("Northmoor County Council, Client Affairs", ("County Hall", "Northmoor", "NM1 1AA"),
                        "01632 960000", "Client Affairs Team")


def demo_document_pdf(*, title: str, client, sender: Sender, dated: date, paragraphs: list[str]) -> bytes:
    html = render_to_string(TEMPLATE, {"title": title, "client": client, "sender": sender, "dated": dated,
                                       "paragraphs": paragraphs})
    return render_pdf(html).content


def demo_document_upload(name: str, **document) -> SimpleUploadedFile:
    """The document as an uploaded PDF file, for the services that store uploads."""
    return SimpleUploadedFile(name, demo_document_pdf(**document), content_type="application/pdf")
