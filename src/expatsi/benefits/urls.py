from django.urls import path

from expatsi.benefits import views

app_name = "benefits"
urlpatterns = [
    path("leaving/", views.leaving, name="leaving"),
    path("leaving/<int:departure_id>/keep/", views.keep, name="keep"),
    path("leaving/<int:departure_id>/terminate/", views.terminate, name="terminate"),
    path("applications/", views.queue, name="queue"),
    path("applications/<int:termination_id>/", views.application, name="application"),
    path("applications/<int:termination_id>/decide/", views.decide, name="decide"),
    path("payments/", views.payments, name="payments"),
    path("payments/run/", views.run, name="run"),
    path("payments/return/", views.reconcile, name="reconcile"),
    path("payments/runs/<int:payment_run_id>/pain001.xml", views.run_file, name="run_file"),
]

# Pensions paid abroad and the annual proof of life (issue #11).
from expatsi.benefits import views_pension  # noqa: E402

urlpatterns += [
    path("pension/", views_pension.mine, name="my_pension"),
    path("pensions/", views_pension.pension_list, name="pensions"),
    path("pensions/apply/", views_pension.apply_for, name="pension_apply"),
    path("pensions/run/", views_pension.month_run, name="pension_run"),
    path("pensions/<int:pension_id>/", views_pension.detail, name="pension"),
    path("pensions/<int:pension_id>/decide/", views_pension.decide, name="pension_decide"),
    path("pensions/<int:pension_id>/proof/", views_pension.proof, name="proof"),
    path("proofs/<int:proof_id>/decide/", views_pension.proof_decide, name="proof_decide"),
    path("proofs/<int:proof_id>/certificate", views_pension.proof_document, name="proof_document"),
]
