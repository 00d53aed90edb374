"""Template tags for links that keep the current query string.

{% load pagination_tags %}
{% url_with request format="csv" %}   -> current path, other GET params kept, format set, page dropped
{% page_url request 3 %}              -> current path and GET params with page=3
"""

from django import template
from django.http import QueryDict

register = template.Library()


def _build(request, params: QueryDict) -> str:
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


@register.simple_tag
def url_with(request, **changes) -> str:
    """Current path with GET params replaced/added by ``changes``, ``page`` dropped.

    A change whose value is None or "" removes that parameter.
    """
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = str(value)
    return _build(request, params)


@register.simple_tag
def page_url(request, number) -> str:
    """Current path with all GET params kept and ``page`` set to ``number``."""
    params = request.GET.copy()
    params.pop("page", None)
    if str(number) != "1":
        params["page"] = str(number)
    return _build(request, params)


@register.simple_tag
def page_window(page_obj, around: int = 2):
    """Page numbers to show, with None for an ellipsis: 1 … 4 5 [6] 7 8 … 20."""
    current = page_obj.number
    last = page_obj.paginator.num_pages
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    window = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            window.append(None)
        window.append(number)
        previous = number
    return window
