"""The administration pages (``employers.admin_views``), under /administration/."""

from django.urls import path

from expatsi.employers import admin_views as views

app_name = "administration"
urlpatterns = [
    path("", views.employer_list, name="employers"),
    path("employers/new/", views.employer_new, name="employer_new"),
    path("employers/<int:pk>/", views.employer_access, name="employer"),
    path(
        "employers/<int:pk>/hr/<int:membership_pk>/revoke/",
        views.hr_revoke,
        name="hr_revoke",
    ),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:pk>/regions/", views.staff_regions, name="staff_regions"),
]
