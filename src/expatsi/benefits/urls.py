from django.urls import path

from expatsi.benefits import views, views_death, views_lists, views_pension, views_programmes

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
    path(
        "applications/<int:termination_id>/signed-form/",
        views.signed_form,
        name="signed_form",
    ),
    path("applications/<int:termination_id>/bank/", views.correct_bank, name="correct_bank"),
    path("programmes/", views_programmes.programmes_page, name="programmes"),
    path("programme-applications/", views_programmes.queue, name="programme_queue"),
    path(
        "programme-applications/<int:programme_application_id>/",
        views_programmes.application,
        name="programme_application",
    ),
    path(
        "programme-applications/<int:programme_application_id>/decide/",
        views_programmes.decide,
        name="programme_decide",
    ),
]

# Pensions paid abroad and the annual proof of life (issue #11).
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

# death and inheritance (views_death.py)
urlpatterns += [
    path("deaths/", views_death.deaths, name="deaths"),
    path("deaths/<int:death_id>/", views_death.death_page, name="death"),
    path(
        "deaths/<int:death_id>/documents/<int:death_document_id>/",
        views_death.death_document,
        name="death_document",
    ),
    path("deaths/<int:death_id>/claim/", views_death.claim_file, name="claim_file"),
    path("inheritance/<int:claim_id>/", views_death.claim_page, name="claim"),
    path("inheritance/<int:claim_id>/decide/", views_death.claim_decide, name="claim_decide"),
    path(
        "inheritance/<int:claim_id>/documents/", views_death.claim_document, name="claim_document"
    ),
]

# The benefit lists at volume, each on the list toolkit (views_lists.py, issue #13).
urlpatterns += [
    path("deaths/all/", views_lists.deaths_all, name="deaths_all"),
    path("inheritance/", views_lists.claims_all, name="claims_all"),
    path("pensions/waiting/", views_lists.pensions_waiting_all, name="pensions_waiting"),
    path("pensions/paid/", views_lists.pensions_running_all, name="pensions_paid"),
    path("proofs/", views_lists.proofs_all, name="proofs"),
    path("payments/pending/", views_lists.payouts_pending_all, name="payouts_pending"),
]
