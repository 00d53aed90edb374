from django.urls import path

from casework.views import cases, clients, health, work

app_name = "casework"

urlpatterns = [
    path("", work.home, name="home"),
    path("work/", work.my_work, name="my_work"),
    path("team-queue/", work.team_queue, name="team_queue"),
    path("cases/", work.case_list, name="case_list"),
    path("search/", work.search, name="search"),
    path("health/", health.health, name="health"),
    path("clients/new/", clients.client_create, name="client_create"),
    path("clients/<int:pk>/", clients.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", clients.client_edit, name="client_edit"),
    path("clients/<int:pk>/death/", clients.client_death, name="client_death"),
    path("clients/<int:pk>/history/", clients.client_history, name="client_history"),
    path("clients/<int:pk>/statement/", clients.client_statement, name="client_statement"),
    path("clients/<int:pk>/ledger/new/", clients.ledger_post, name="ledger_post"),
    path("clients/<int:pk>/representatives/new/", clients.representative_add, name="representative_add"),
    path("clients/<int:pk>/cases/new/", cases.case_create, name="case_create"),
    path("representatives/<int:pk>/end/", clients.representative_end, name="representative_end"),
    path("ledger/<int:pk>/reverse/", clients.ledger_reverse, name="ledger_reverse"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/timeline/new/", cases.case_note, name="case_note"),
    path("cases/<int:pk>/status/", cases.case_status, name="case_status"),
    path("cases/<int:pk>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<int:pk>/take/", cases.case_take, name="case_take"),
    path("cases/<int:pk>/hold/", cases.case_hold, name="case_hold"),
    path("cases/<int:pk>/release/", cases.case_release, name="case_release"),
    path("cases/<int:pk>/tasks/new/", cases.task_create, name="task_create"),
    path("cases/<int:pk>/documents/new/", cases.document_upload, name="document_upload"),
    path("tasks/<int:pk>/complete/", cases.task_complete, name="task_complete"),
    path("documents/<int:pk>/", cases.document_download, name="document_download"),
]
