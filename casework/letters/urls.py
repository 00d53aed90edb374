"""Include at letters/ in config/urls.py: path("letters/", include("casework.letters.urls"))."""
from django.urls import path

from casework.views import letters

app_name = "letters"

urlpatterns = [
    path("templates/", letters.template_list, name="template_list"),
    path("templates/<slug:code>/", letters.template_edit, name="template_edit"),
    path("templates/<slug:code>/preview/", letters.template_preview, name="template_preview"),
    path("produce/<int:client_pk>/<slug:code>/", letters.letter_produce, name="letter_produce"),
    path("<int:pk>/", letters.letter_download, name="letter_download"),
]
