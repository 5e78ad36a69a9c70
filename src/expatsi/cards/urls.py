from django.urls import path

from expatsi.cards import list_views, views

app_name = "cards"
urlpatterns = [
    path("", list_views.card_list, name="list"),
    path("verify/", views.verify_page, name="verify"),
    path("queue/", list_views.queue, name="queue"),
    path("queue/bulk/", list_views.applications_bulk, name="queue_bulk"),
    path("legacy/", views.legacy_import, name="legacy_import"),
    path("applications/<int:app_pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/", views.card_detail, name="detail"),
    path("<int:pk>/qr.png", views.card_qr_png, name="qr_png"),
    path("<int:pk>/card.pdf", views.card_pdf, name="pdf"),
    path("<int:pk>/photo.jpg", views.card_photo, name="photo"),
    path("<int:pk>/entry/", views.card_entry, name="entry"),
    path("verify/photo/<str:reference>/", views.verify_photo, name="verify_photo"),
    path("<int:pk>/<str:kind>/", views.card_file, name="file"),
]

# The first application in the portal, with its documents (cards/views_application.py).
from expatsi.cards import views_application  # noqa: E402

urlpatterns += [
    path("apply/", views_application.application_new, name="apply"),
    path("applications/<int:app_pk>/", views_application.application_detail, name="application"),
    path(
        "applications/<int:app_pk>/decision/",
        views_application.application_decide,
        name="application_decide",
    ),
    path(
        "applications/<int:app_pk>/documents/",
        views_application.document_upload,
        name="document_upload",
    ),
    path(
        "applications/<int:app_pk>/documents/<int:doc_pk>/",
        views_application.document_download,
        name="document",
    ),
]

# The application form's searchable pickers (cards/picker.py): fragments the script asks as one types.
urlpatterns += [
    path("apply/people/", views_application.apply_people, name="apply_people"),
    path("apply/employers/", views_application.apply_employers, name="apply_employers"),
]
