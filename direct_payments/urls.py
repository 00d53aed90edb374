"""Direct payments pages, mounted by config/urls.py at /direct-payments/."""
from django.urls import path

from .views import agreements, audits, reference, waivers

app_name = "direct_payments"

urlpatterns = [
    path("", agreements.home, name="home"),
    path("agreements/", agreements.agreement_list, name="agreement_list"),
    path("agreements/new/", agreements.agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", agreements.agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/status/", agreements.agreement_status, name="agreement_status"),
    path("agreements/<int:pk>/payments/new/", agreements.payment_create, name="payment_create"),
    path("agreements/<int:pk>/audits/new/", agreements.audit_create, name="audit_create"),
    path("payments/", agreements.payment_list, name="payment_list"),
    path("audits/", audits.audit_list, name="audit_list"),
    path("audits/<int:pk>/", audits.audit_detail, name="audit_detail"),
    path("audits/<int:pk>/lines/", audits.line_list, name="line_list"),
    path("audits/<int:pk>/upload/", audits.statement_upload, name="statement_upload"),
    path("audits/<int:pk>/liabilities/new/", audits.liability_add, name="liability_add"),
    path("audits/<int:pk>/reanalyse/", audits.audit_reanalyse, name="audit_reanalyse"),
    path("audits/<int:pk>/outcome/", audits.audit_outcome, name="audit_outcome"),
    path("audits/<int:pk>/waive-surplus/", waivers.surplus_waive, name="surplus_waive"),
    path("flags/<int:pk>/review/", audits.flag_review, name="flag_review"),
    path("liabilities/<int:pk>/remove/", audits.liability_remove, name="liability_remove"),
    path("recoveries/", audits.recovery_list, name="recovery_list"),
    path("recoveries/<int:pk>/decide/", audits.recovery_decide, name="recovery_decide"),
    path("reports/recovered/", reference.recovered_report, name="recovered_report"),
    path("rules/", reference.rule_list, name="rule_list"),
    path("rules/new/", reference.rule_create, name="rule_create"),
    path("rules/<int:pk>/edit/", reference.rule_edit, name="rule_edit"),
    path("banks/", reference.bank_list, name="bank_list"),
]
