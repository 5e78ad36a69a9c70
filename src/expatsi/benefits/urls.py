from django.urls import path

from expatsi.benefits import views, views_programmes

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
