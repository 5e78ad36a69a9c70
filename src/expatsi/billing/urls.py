from django.urls import path

from expatsi.billing.views import bills, declarations, me, payments, runs

app_name = "billing"
urlpatterns = [
    path("", bills.bill_list, name="bills"),
    path("bills/<int:pk>/", bills.bill_detail, name="bill"),
    path("bills/<int:pk>/bill.<str:fmt>", bills.bill_download, name="bill_download"),
    path("payments/", payments.payments, name="payments"),
    path("payments/new/", payments.payment_new, name="payment_new"),
    path("payments/bank-statement/", payments.bank_import, name="bank_import"),
    path("payments/bank-statement/apply/", payments.bank_import_apply, name="bank_import_apply"),
    path("declarations/", declarations.declaration_page, name="declarations"),
    path("declarations/import/", declarations.declaration_import, name="declarations_import"),
    path(
        "declarations/import/apply/",
        declarations.declaration_import_apply,
        name="declarations_import_apply",
    ),
    path(
        "declarations/template.csv",
        declarations.declaration_template,
        name="declarations_template",
    ),
    path("me/", me.me, name="me"),
    path("me/pension/", me.pension, name="pension"),
    path("people/<int:pk>/pension/", me.person_pension, name="person_pension"),
    path("me/statement-<str:language>.pdf", me.statement_pdf, name="statement_pdf"),
    path("collection/", runs.collection, name="collection"),
    path("runs/new/", runs.run_start, name="run_start"),
    path("runs/jobs/<str:key>/", runs.job, name="job"),
    path("runs/jobs/<str:key>/status.json", runs.job_status, name="job_status"),
    path("runs/jobs/<str:key>/resume/", runs.job_resume, name="job_resume"),
]
