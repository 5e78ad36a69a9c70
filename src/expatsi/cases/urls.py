from django.urls import path

from expatsi.cases import views, views_dashboard, views_fines

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("findings/", views.findings, name="findings"),
    path("findings/scan/", views.scan, name="scan"),
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
