from django.urls import path

from expatsi.billing import views

app_name = "billing"
urlpatterns = [
    path("", views.bill_list, name="bills"),
    path("bills/<int:pk>/", views.bill_detail, name="bill"),
    path("bills/<int:pk>/bill.<str:fmt>", views.bill_download, name="bill_download"),
    path("payments/", views.payments, name="payments"),
    path("payments/new/", views.payment_new, name="payment_new"),
    path("payments/bank-statement/", views.bank_import, name="bank_import"),
    path("payments/bank-statement/apply/", views.bank_import_apply, name="bank_import_apply"),
    path("declarations/", views.declaration_page, name="declarations"),
    path("declarations/import/", views.declaration_import, name="declarations_import"),
    path(
        "declarations/import/apply/",
        views.declaration_import_apply,
        name="declarations_import_apply",
    ),
    path("declarations/template.csv", views.declaration_template, name="declarations_template"),
    path("me/", views.me, name="me"),
    path("me/pension/", views.pension, name="pension"),
    path("people/<int:pk>/pension/", views.person_pension, name="person_pension"),
    path("me/statement-<str:language>.pdf", views.statement_pdf, name="statement_pdf"),
    path("collection/", views.collection, name="collection"),
    path("runs/new/", views.run_start, name="run_start"),
    path("runs/jobs/<str:key>/", views.job, name="job"),
    path("runs/jobs/<str:key>/status.json", views.job_status, name="job_status"),
    path("runs/jobs/<str:key>/resume/", views.job_resume, name="job_resume"),
]
