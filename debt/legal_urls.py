"""URL patterns of the investigation and legal referral pages, included by debt/urls.py."""
from django.urls import path

from .views import legal as views

urlpatterns = [
    path("investigations/cases/<int:case_pk>/new/", views.investigation_create, name="investigation_create"),
    path("investigations/<int:pk>/", views.investigation_detail, name="investigation_detail"),
    path("investigations/<int:pk>/findings/", views.investigation_record, name="investigation_record"),
    path("investigations/<int:pk>/close/", views.investigation_close, name="investigation_close"),
    path("investigations/<int:pk>/transfers/new/", views.transfer_add, name="transfer_add"),
    path("investigations/transfers/<int:pk>/finding/", views.transfer_finding, name="transfer_finding"),
    path("investigations/transfers/<int:pk>/section-70/", views.third_party_liability,
         name="third_party_liability"),
    path("legal/clients/<int:client_pk>/new/", views.referral_create, name="referral_create"),
    path("legal/", views.referral_list, name="referral_list"),
    path("legal/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("legal/<int:pk>/approve/", views.referral_approve, name="referral_approve"),
    path("legal/<int:pk>/reject/", views.referral_reject, name="referral_reject"),
    path("legal/<int:pk>/issue/", views.referral_issue, name="referral_issue"),
    path("legal/<int:pk>/litigation-friend/", views.referral_litigation_friend, name="referral_litigation_friend"),
    path("legal/<int:pk>/judgment/", views.referral_judgment, name="referral_judgment"),
    path("legal/<int:pk>/enforcement/", views.referral_enforcement, name="referral_enforcement"),
    path("legal/<int:pk>/close/", views.referral_close, name="referral_close"),
    path("legal/<int:pk>/claim-pack/", views.claim_pack_download, name="claim_pack_download"),
]
