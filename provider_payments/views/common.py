"""What every provider payments page shares: roles, tables, list pages with CSV/XLSX export."""
from django.core.paginator import Paginator
from django.shortcuts import render

from casework.exports import Column, export_response, personal_export_response, requested_format
from casework.money import format_pounds
from casework.roles import READERS, Role
from casework.views.access import log_record_views

#: Who works provider payments: imports claims, overrides lines, records packages and rates.
WORKERS = frozenset({Role.PROVIDER_PAYMENT_OFFICER, Role.TEAM_LEADER})
#: Who approves uplifts, overpayment recovery and urgent payments, and releases payment runs.
LEADERS = frozenset({Role.TEAM_LEADER})
VIEWERS = READERS
PAGE_SIZE = 50


def cell(text, url: str | None = None, numeric: bool = False, tag: str | None = None) -> dict:
    return {"text": "" if text is None else text, "url": url, "numeric": numeric, "tag": tag}


def money(value) -> dict:
    return cell(format_pounds(value) if value is not None else "", numeric=True)


def table(caption: str, columns: list[Column], objects, cells, empty: str = "None.",
          numeric: tuple = ()) -> dict:
    """A table for the page from the same columns the export uses; `cells(obj)` gives the row."""
    return {"caption": caption, "headers": [(c.header, c.header in numeric) for c in columns],
            "rows": [cells(o) for o in objects], "empty": empty}


def list_page(request, *, title: str, queryset, columns: list[Column], cells, filename: str, actions=(),
              numeric: tuple = (), intro: str = "", links=(), screen_columns: list[Column] | None = None,
              client_of=None):
    """A list page: the first PAGE_SIZE rows as a table, every row as CSV or XLSX. `screen_columns`
    (with `cells` to match) keeps a wide list readable on screen; the exports keep every column.
    A list of clients' data gives `client_of(row)`, the row's client: the rows shown and exported are
    logged as views of their clients, and the export is capped (casework.exports)."""
    if fmt := requested_format(request):
        if client_of is not None:
            return personal_export_response(request, queryset, columns, filename, fmt, client_of=client_of)
        return export_response(queryset, columns, filename, fmt)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    if client_of is not None:
        log_record_views(request, [client_of(row) for row in page.object_list])
    return render(request, "provider_payments/page.html", {
        "title": title, "intro": intro, "actions": actions, "links": links, "page_obj": page, "exportable": True,
        "tables": [table(title, screen_columns or columns, page.object_list, cells, empty=f"No {title.lower()} yet.", numeric=numeric)]})


def form_page(request, form, title: str, back_url: str, summary=(), multipart: bool = False, caption: str = ""):
    return render(request, "casework/form_page.html", {"form": form, "title": title, "back_url": back_url,
                                                       "summary": list(summary), "multipart": multipart,
                                                       "caption": caption})
