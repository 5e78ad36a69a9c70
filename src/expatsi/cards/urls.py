from django.urls import path

from expatsi.cards import views

app_name = "cards"
urlpatterns = [
    path("", views.card_list, name="list"),
    path("verify/", views.verify_page, name="verify"),
    path("queue/", views.queue, name="queue"),
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
