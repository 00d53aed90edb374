"""Letter wording (finance administrators), the live preview, downloads and producing one letter."""
import logging

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST
from csp.constants import SELF
from csp.decorators import csp_replace

from casework import services
from casework.letters import UnknownLetterType, get_letter_type, letter_types
from casework.letters import services as letters
from casework.letters.forms import LetterTemplateForm
from casework.letters.safe_template import TemplateRefused
from casework.models import Client, Letter, LetterTemplate
from casework.roles import CASEWORKERS, READERS, Role, has_any_role

from .access import log_record_views, role_required
from .forms import handle

logger = logging.getLogger(__name__)

TEMPLATE_READERS = frozenset({Role.FINANCE_ADMINISTRATOR, Role.TEAM_LEADER, Role.AUDITOR})
TEMPLATE_EDITORS = frozenset({Role.FINANCE_ADMINISTRATOR})


def _letter_type(code: str):
    try:
        return get_letter_type(code)
    except UnknownLetterType:
        raise Http404("No such letter type")


@role_required(TEMPLATE_READERS)
def template_list(request):
    types = letter_types()
    latest_version = LetterTemplate.objects.filter(letter_type=OuterRef("letter_type")).order_by("-version").values("version")[:1]
    current = {t.letter_type: t for t in LetterTemplate.objects.filter(
        letter_type__in=[lt.code for lt in types], version=Subquery(latest_version)).select_related("created_by")}
    rows = [{"type": lt, "template": current.get(lt.code)} for lt in types]
    return render(request, "casework/letters/template_list.html",
                  {"rows": rows, "can_edit": has_any_role(request.user, TEMPLATE_EDITORS)})


#: The live preview shows the PDF from an object URL in an iframe. The blob: document inherits
#: this page's policy, and Chrome's PDF viewer checks its data against object-src, so both
#: directives admit blob: on this page only (objects we create from our own preview response).
PREVIEW_PAGE_CSP = {"frame-src": [SELF, "blob:"], "object-src": ["blob:"]}


@role_required(TEMPLATE_EDITORS)
@csp_replace(PREVIEW_PAGE_CSP)
def template_edit(request, code: str):
    lt = _letter_type(code)
    latest = letters.latest_template(lt)
    initial = {"subject": latest.subject if latest else lt.default_subject,
               "body": latest.body if latest else lt.default_body, "based_on": latest.version if latest else 0}
    form = LetterTemplateForm(request.POST or None, initial=initial)
    saved = handle(request, form, lambda d: letters.letter_template_save(
        letter_type=lt, subject=d["subject"], body=d["body"], change_note=d["change_note"], actor=request.user,
        based_on=d["based_on"]))
    if saved:
        messages.success(request, f"{lt.name}: version {saved.version} is now in use")
        return redirect("letters:template_edit", code=lt.code)
    history = LetterTemplate.objects.filter(letter_type=lt.code).select_related("created_by").order_by("-version")
    return render(request, "casework/letters/template_edit.html", {
        "letter_type": lt, "form": form, "latest": latest, "history": history,
        "fields": sorted(lt.fields.items()), "block_fields": lt.block_fields,
    })


@role_required(TEMPLATE_EDITORS)
@require_POST
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF], "object-src": [SELF]})
def template_preview(request, code: str):
    """The unsaved wording as a PDF against a sample client; 400 with the reason if refused.

    Without JavaScript the form opens this in a new tab: object-src 'self' lets the browser's PDF
    viewer show it, and it may be framed by this site's own pages."""
    lt = _letter_type(code)
    try:
        pdf = letters.render_preview(letter_type=lt, subject=request.POST.get("subject", ""),
                                     body=request.POST.get("body", ""),
                                     large_print=request.POST.get("large_print") in ("on", "true", "1"))
    except TemplateRefused as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="preview-{lt.code}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(READERS)
def letter_download(request, pk: int):
    """The PDF exactly as sent, if its bytes still match the SHA-256 recorded when it was made."""
    letter = get_object_or_404(Letter.objects.select_related("client"), pk=pk)
    log_record_views(request, letter.client)
    try:
        content, intact = letters.letter_file_intact(letter)
    except FileNotFoundError:
        raise Http404("The letter's file is missing")
    if not intact:
        logger.error("Letter %s: stored file %s does not match its SHA-256", letter.pk, letter.file.name)
        return render(request, "casework/letters/letter_changed.html", {"letter": letter}, status=409)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letter.reference}-{letter.letter_type}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(CASEWORKERS)
@require_POST
def letter_produce(request, client_pk: int, code: str):
    client = get_object_or_404(Client, pk=client_pk)
    lt = _letter_type(code)
    try:
        letter = letters.letter_produce(client=client, letter_type=lt, on=timezone.localdate(), actor=request.user)
    except services.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, format_html(
            '{} produced for {}. <a class="govuk-notification-banner__link" href="{}">Download the letter ({}, PDF)</a>',
            lt.name, letter.recipient_name, reverse("letters:letter_download", args=[letter.pk]), letter.reference))
    return redirect("casework:client_detail", pk=client.pk)
