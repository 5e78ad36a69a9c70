"""The hire and registration pages, at the site's root (their names are not namespaced, as
before they moved here from the portal)."""

from django.urls import path

from expatsi.insurance import list_views, views

urlpatterns = [
    path("hires/new/", views.hire_new, name="hire_new"),
    path("hires/import/", views.hire_import, name="hire_import"),
    path("hires/import/apply/", views.hire_import_apply, name="hire_import_apply"),
    path("hires/import/template.<str:fmt>", views.import_template, name="import_template"),
    path("registrations/", list_views.registrations, name="registrations"),
    path("registrations/bulk/", list_views.registrations_bulk, name="registrations_bulk"),
    path("registrations/<int:pk>/", views.registration_detail, name="registration_detail"),
    path(
        "registrations/<int:pk>/accept/", views.registration_accept_view, name="registration_accept"
    ),
    path(
        "registrations/<int:pk>/reject/", views.registration_reject_view, name="registration_reject"
    ),
]
