from django.urls import path

from expatsi.cases import views, views_dashboard, views_disputes, views_fines, views_reports

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("findings/", views.findings, name="findings"),
    path("findings/scan/", views.scan, name="scan"),
    path("findings/scans/<int:scan_id>/", views.scan_detail, name="scan_detail"),
    path("findings/scans/<int:scan_id>/resume/", views.scan_resume, name="scan_resume"),
    path("findings/<int:finding_id>/", views.finding_detail, name="finding"),
    path("findings/<int:finding_id>/open-case/", views.open_case, name="open_case"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/order/", views.order, name="order"),
    path("<int:case_id>/fines/", views.propose_fine, name="propose_fine"),
    path("<int:case_id>/decision/", views.decide, name="decide"),
    path("<int:case_id>/close/", views.close, name="close"),
    path("<int:case_id>/order.pdf", views.order_pdf, name="order_pdf"),
    path("dashboard/", views_dashboard.dashboard_page, name="dashboard"),
    path("dashboard/export/", views_dashboard.dashboard_csv, name="dashboard_csv"),
    path("<int:case_id>/fines/withdraw/", views_fines.withdraw_fine, name="withdraw_fine"),
]

# Disputes, complaints and reports (views_disputes.py).
urlpatterns += [
    path("disputes/", views_disputes.dispute_list, name="disputes"),
    path("disputes/new/", views_disputes.dispute_new, name="dispute_new"),
    path("disputes/<int:dispute_id>/", views_disputes.dispute_detail, name="dispute"),
    path("disputes/<int:dispute_id>/stage/", views_disputes.dispute_stage, name="dispute_stage"),
    path(
        "disputes/<int:dispute_id>/documents/",
        views_disputes.dispute_document_add,
        name="dispute_document_add",
    ),
    path(
        "disputes/<int:dispute_id>/documents/<int:dispute_document_id>/",
        views_disputes.dispute_document,
        name="dispute_document",
    ),
    path(
        "disputes/<int:dispute_id>/decision/", views_disputes.dispute_decide, name="dispute_decide"
    ),
    path(
        "disputes/<int:dispute_id>/correction/",
        views_disputes.dispute_correct,
        name="dispute_correct",
    ),
    path("disputes/<int:dispute_id>/close/", views_disputes.dispute_close, name="dispute_close"),
    path("complaints/", views_disputes.complaint_list, name="complaints"),
    path("complaints/new/", views_disputes.complaint_new, name="complaint_new"),
    path("complaints/<int:complaint_id>/", views_disputes.complaint_detail, name="complaint"),
    path(
        "complaints/<int:complaint_id>/reply/",
        views_disputes.complaint_reply,
        name="complaint_reply",
    ),
    path(
        "complaints/<int:complaint_id>/close/",
        views_disputes.complaint_close,
        name="complaint_close",
    ),
    path(
        "complaints/<int:complaint_id>/finding/",
        views_disputes.complaint_finding,
        name="complaint_finding",
    ),
]

# Reports from anyone, without an account (views_reports.py).
urlpatterns += [
    path("report/", views_reports.report_public, name="report_public"),
    path("report/sent/", views_reports.report_sent, name="report_sent"),
]
