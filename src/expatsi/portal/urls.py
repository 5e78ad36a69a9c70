from django.urls import path

from expatsi.portal import views

urlpatterns = [
    path("", views.home, name="home"),
]
