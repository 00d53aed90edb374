from django.shortcuts import render
from django.template import loader
from django.http import HttpResponseBadRequest, HttpResponseServerError


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors: whatever failed must not fail again here.
    return HttpResponseServerError(loader.get_template("500.html").render())


def bad_request(request, exception=None):
    """A request Django refuses after the view ran (for example the session could not be saved
    because the database went away after a change was recorded): the service's error page, which
    tells the officer to check whether their change was saved, never Django's bare page."""
    return HttpResponseBadRequest(loader.get_template("500.html").render())
