"""Every URL pattern against one declared access matrix.

Anonymous users are sent to sign in (or, on the API, refused); each role gets the page or a 403
exactly as declared; a URL pattern missing from the matrix fails the test.
"""
import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from casework.admin_site import ADMINISTRATORS
from casework.roles import (
    CASEWORKERS,
    CLIENT_EDITORS,
    LEDGER_POSTERS,
    LEDGER_REVERSERS,
    QUEUE_MANAGERS,
    READERS,
    STAFF,
    Role,
)

from casework.models import Letter
from casework.runs.services import run_start

from .access import EXTENSIONS
from .conftest import sign_in
from .factories import (
    CaseFactory,
    ClientFactory,
    DocumentFactory,
    LedgerEntryFactory,
    RepresentativeFactory,
    TaskFactory,
    TimelineEntryFactory,
    UserFactory,
)

API_READERS = READERS | {Role.SYSTEM_ACCOUNT}
RUN_VIEWERS = READERS | {Role.FINANCE_ADMINISTRATOR}
#: A run that names clients (the statements run here), its item export and print batch: client readers only.
CLIENT_RUN_READERS = READERS
RUN_OPERATORS = frozenset({Role.TEAM_LEADER})
SCHEMA_READERS = API_READERS | {Role.FINANCE_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR}
EVERYONE = frozenset(Role)

# name -> (who may, method, kind). kind: "page" (anonymous sent to sign in), "public" (anyone),
# "api" (anonymous refused with 401/403).
MATRIX = {
    "casework:home": (STAFF, "GET", "page"),
    "casework:password_change": (STAFF, "GET", "page"),
    "casework:session_list": (STAFF, "GET", "page"),
    "casework:my_work": (READERS, "GET", "page"),
    "casework:team_queue": (QUEUE_MANAGERS, "GET", "page"),
    "casework:case_list": (READERS, "GET", "page"),
    "casework:search": (READERS, "GET", "page"),
    "casework:health": (EVERYONE, "GET", "public"),
    "casework:client_create": (CLIENT_EDITORS, "GET", "page"),
    "casework:client_detail": (READERS, "GET", "page"),
    "casework:client_edit": (CLIENT_EDITORS, "GET", "page"),
    "casework:client_death": (CASEWORKERS, "GET", "page"),
    "casework:client_history": (READERS, "GET", "page"),
    "casework:client_statement": (READERS, "GET", "page"),
    "casework:ledger_post": (LEDGER_POSTERS, "GET", "page"),
    "casework:representative_add": (CLIENT_EDITORS, "GET", "page"),
    "casework:case_create": (CASEWORKERS, "GET", "page"),
    "casework:representative_end": (CLIENT_EDITORS, "GET", "page"),
    "casework:ledger_reverse": (LEDGER_REVERSERS, "GET", "page"),
    "casework:case_detail": (READERS, "GET", "page"),
    "casework:case_note": (CASEWORKERS, "GET", "page"),
    "casework:case_status": (CASEWORKERS, "GET", "page"),
    "casework:case_assign": (QUEUE_MANAGERS, "GET", "page"),
    "casework:case_take": (CASEWORKERS, "POST", "page"),
    "casework:case_hold": (CASEWORKERS, "GET", "page"),
    "casework:case_release": (CASEWORKERS, "POST", "page"),
    "casework:task_create": (CASEWORKERS, "GET", "page"),
    "casework:task_complete": (CASEWORKERS, "POST", "page"),
    "casework:document_upload": (CASEWORKERS, "GET", "page"),
    "casework:document_download": (READERS, "GET", "page"),
    "casework:run_list": (RUN_VIEWERS, "GET", "page"),
    "casework:run_start": (RUN_OPERATORS, "GET", "page"),
    "casework:run_detail": (CLIENT_RUN_READERS, "GET", "page"),
    "casework:run_progress": (RUN_VIEWERS, "GET", "page"),
    "casework:run_retry": (RUN_OPERATORS, "POST", "page"),
    "casework:run_resume": (RUN_OPERATORS, "POST", "page"),
    "casework:run_cancel": (RUN_OPERATORS, "GET", "page"),
    "casework:batch_hold": (RUN_OPERATORS, "GET", "page"),
    "casework:batch_unhold": (RUN_OPERATORS, "POST", "page"),
    "casework:batch_release": (RUN_OPERATORS, "POST", "page"),
    "casework:batch_file": (CLIENT_RUN_READERS, "GET", "page"),
    "letters:template_list": (frozenset({Role.FINANCE_ADMINISTRATOR, Role.TEAM_LEADER, Role.AUDITOR}), "GET", "page"),
    "letters:template_edit": (frozenset({Role.FINANCE_ADMINISTRATOR}), "GET", "page"),
    "letters:template_preview": (frozenset({Role.FINANCE_ADMINISTRATOR}), "POST", "page"),
    "letters:letter_download": (READERS, "GET", "page"),
    "letters:letter_produce": (CASEWORKERS, "POST", "page"),
    "login": (EVERYONE, "GET", "public"),
    "logout": (EVERYONE, "POST", "public"),
    "two_factor_verify": (EVERYONE, "GET", "page"),
    "two_factor_setup": (EVERYONE, "GET", "page"),
    "api:api-root": (SCHEMA_READERS, "GET", "api"),
    "api:schema": (SCHEMA_READERS, "GET", "api"),
    "api:docs": (SCHEMA_READERS, "GET", "api"),
    "api:client-list": (API_READERS, "GET", "api"),
    "api:client-detail": (API_READERS, "GET", "api"),
    "api:representative-list": (API_READERS, "GET", "api"),
    "api:representative-detail": (API_READERS, "GET", "api"),
    "api:case-list": (API_READERS, "GET", "api"),
    "api:case-detail": (API_READERS, "GET", "api"),
    "api:ledgerentry-list": (API_READERS, "GET", "api"),
    "api:ledgerentry-detail": (API_READERS, "GET", "api"),
    **{f"api:{name}-{view}": (API_READERS, "GET", "api")
       for name in ["assessedcharge", "payment", "invoice", "debt", "moratorium"] for view in ["list", "detail"]},
}
for _extension in EXTENSIONS:
    MATRIX.update(_extension.MATRIX)

#: Every admin URL is served by CareledgerAdminSite, which admits only these roles.
ADMIN_NAMESPACE_ROLES = ADMINISTRATORS


def all_url_names(resolver=None, namespace: str = "") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= all_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            if not pattern.name and namespace.startswith("admin:"):
                continue  # the admin's unnamed "view on site" shortcut, behind the same site check
            assert pattern.name, f"URL pattern {pattern.pattern} has no name, so it cannot be in the access matrix"
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_pattern_is_in_the_access_matrix():
    names = all_url_names()
    outside_admin = {n for n in names if not n.startswith("admin:")}
    missing = sorted(outside_admin - set(MATRIX))
    assert not missing, f"URL patterns missing from the access matrix: {missing}"
    stale = sorted(set(MATRIX) - outside_admin)
    assert not stale, f"The access matrix names URLs that no longer exist: {stale}"


@pytest.fixture
def objects(db, django_capture_on_commit_callbacks):
    case = CaseFactory()
    entry = LedgerEntryFactory(account__client=case.client)
    with django_capture_on_commit_callbacks(execute=True):
        run = run_start(job="statements", business_date=entry.effective_date, trigger="test")
    run.refresh_from_db()
    assert run.print_batch.letter_count == 1
    base = {
        "run": run,
        "letter": Letter.objects.get(run_item__run=run),
        "client": case.client,
        "case": case,
        "representative": RepresentativeFactory(client=case.client),
        "entry": entry,
        "task": TaskFactory(case=case),
        "document": DocumentFactory(case=case),
    }
    for extension in EXTENSIONS:
        base.update(extension.make_objects(base))
    return base


def url_for(name: str, objects: dict) -> str:
    object_for = {
        "client": ["client_detail", "client_edit", "client_death", "client_history", "client_statement", "ledger_post",
                   "representative_add", "case_create", "client-detail"],
        "case": ["case_detail", "case_note", "case_status", "case_assign", "case_take", "case_hold", "case_release",
                 "task_create", "document_upload", "case-detail"],
        "representative": ["representative_end", "representative-detail"],
        "entry": ["ledger_reverse", "ledgerentry-detail"],
        "task": ["task_complete"],
        "document": ["document_download"],
    }
    for extension in EXTENSIONS:
        kwargs = extension.url_kwargs(name, objects)
        if kwargs is not None:
            return reverse(name, kwargs=kwargs)
    short = name.split(":")[-1]
    api_objects = {"assessedcharge-detail": "charge", "payment-detail": "payment", "invoice-detail": "invoice",
                   "moratorium-detail": "moratorium"}
    if short in api_objects:
        return reverse(name, kwargs={"pk": objects[api_objects[short]].pk})
    if short == "debt-detail":
        return reverse(name, kwargs={"client": objects["invoice"].client_id})
    special = {
        "batch_file": {"pk": objects["run"].pk, "kind": "pdf"},
        "template_edit": {"code": "account_statement"},
        "template_preview": {"code": "account_statement"},
        "letter_produce": {"client_pk": objects["client"].pk, "code": "account_statement"},
        "letter_download": {"pk": objects["letter"].pk},
    }
    if short in special:
        return reverse(name, kwargs=special[short])
    if short.startswith(("run_", "batch_")) and short not in ("run_list", "run_start"):
        return reverse(name, kwargs={"pk": objects["run"].pk})
    for key, names in object_for.items():
        if short in names:
            return reverse(name, kwargs={"pk": objects[key].pk})
    return reverse(name)


def request(http, method: str, url: str):
    if method != "POST":
        return http.get(url)
    if url.startswith("/api/"):
        return http.post(url, "{}", content_type="application/json")  # the API takes JSON bodies only
    return http.post(url)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_users_are_sent_to_sign_in(client, objects, name):
    roles, method, kind = MATRIX[name]
    response = request(client, method, url_for(name, objects))
    if kind == "public":
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"]
    elif kind == "api":
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role) + [None], ids=[r.name for r in Role] + ["NO_ROLE"])
def test_each_role_gets_exactly_what_the_matrix_declares(client, objects, role):
    user = UserFactory(username=f"matrix-{role.name if role else 'none'}", roles=[role] if role else [])
    http = sign_in(client, user)
    wrong = []
    for name, (roles, method, kind) in sorted(MATRIX.items()):
        if name == "logout":
            continue  # signs the user out; covered below
        url = url_for(name, objects)
        response = request(http, method, url)
        allowed = role in roles or (role is None and roles is EVERYONE)
        if allowed:
            ok = response.status_code in (200, 302) and not (
                response.status_code == 302 and "/accounts/login/" in response["Location"] and name != "login"
            )
        else:
            ok = response.status_code == 403
        if not ok:
            wrong.append(f"{name} {method} {url}: {response.status_code} (expected {'access' if allowed else '403'})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_administration_is_for_administrators_only(client, role):
    http = sign_in(client, UserFactory(username=f"admin-{role.name}", roles=[role]))
    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    for url in urls:
        status = http.get(url).status_code
        if role in ADMIN_NAMESPACE_ROLES:
            assert status in (200, 403), (url, status)  # 403: the model permission is not the role's
        else:
            assert status == 403, (url, status)
    if role in ADMIN_NAMESPACE_ROLES:
        assert http.get(reverse("admin:index")).status_code == 200


@pytest.fixture
def marked_client_records(db):
    """A client with a case, a task, a representative, ledger entries, a timeline entry, a document and a
    logged view, each carrying a mark that must appear on no administration page."""
    from casework.models import RecordAccess

    person = ClientFactory(first_name="Ophelia", last_name="Quillfeather", reference="SCQUILL1", postcode="ZZ9 9QQ",
                           address_line_1="7 Quillfeather Lane")
    case = CaseFactory(client=person, title="Quillfeather arrears")
    TaskFactory(case=case, title="Ring Quillfeather family")
    RepresentativeFactory(client=person, name="Quentin Quillfeather")
    entry = LedgerEntryFactory(account__client=person, reference="QUILLLEDGER1", description="Quillfeather charge")
    DocumentFactory(case=case)
    TimelineEntryFactory(client=person, case=case, summary="Spoke to Ms Quillfeather")
    RecordAccess.objects.create(client=person, user=UserFactory(roles=[Role.AUDITOR]), path="/clients/quill/")
    return {"client": person, "case": case, "entry": entry,
            "marks": ["Quillfeather", "SCQUILL1", "ZZ9 9QQ", person.nhs_number, "QUILLLEDGER1", entry.account.number]}


def _admin_pages(http) -> list[str]:
    """The admin index, every changelist and the change page of every row a changelist lists."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:%s_%s_changelist" % info))
        urls += [reverse("admin:%s_%s_change" % info, args=[pk])
                 for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:20]]
    return urls


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ADMIN_NAMESPACE_ROLES), ids=lambda r: r.name)
def test_administration_shows_no_client_case_or_ledger_record(client, marked_client_records, role):
    """The administrator roles may not open client pages, so the admin shows them no client record,
    even to one holding every model permission (every changelist opens)."""
    from django.contrib.auth.models import Permission

    from casework.privacy.sources import client_lookups

    assert role not in READERS
    user = UserFactory(username=f"admin-marks-{role.name}", roles=[role])
    user.user_permissions.set(Permission.objects.all())
    http = sign_in(client, user)
    assert http.get(reverse("casework:client_detail", args=[marked_client_records["client"].pk])).status_code == 403
    client_model = marked_client_records["client"].__class__
    for model in admin.site._registry:
        assert model is not client_model and not client_lookups(model), f"{model._meta.label} leads to clients"
    opened = 0
    for url in _admin_pages(http):
        response = http.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = response.content.decode()
        found = [mark for mark in marked_client_records["marks"] if mark and mark in page]
        assert not found, f"{url} shows {found}"
        opened += 1
    assert opened > len(admin.site._registry)


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ADMIN_NAMESPACE_ROLES), ids=lambda r: r.name)
def test_the_admin_view_site_link_goes_to_the_application_home(client, role):
    http = sign_in(client, UserFactory(username=f"admin-home-{role.name}", roles=[role]))
    page = http.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("casework:home")}"' in page
    home = http.get(reverse("casework:home"))
    assert home.status_code == 200 or home["Location"] != reverse("admin:index")


def test_anonymous_administration_goes_to_the_service_sign_in(client, db):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"] or "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_signing_out_ends_the_session(client):
    http = sign_in(client, UserFactory(username="leaving", roles=[Role.INCOME_OFFICER]))
    assert http.get(reverse("casework:my_work")).status_code == 200
    http.post(reverse("logout"))
    assert http.get(reverse("casework:my_work")).status_code == 302


@pytest.mark.django_db
def test_a_signed_in_user_without_two_factor_cannot_reach_any_page(client):
    user = UserFactory(username="halfway", roles=[Role.TEAM_LEADER])
    client.force_login(user)
    response = client.get(reverse("casework:my_work"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))
