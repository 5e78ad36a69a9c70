from django.contrib.auth import views as auth_views
from django.urls import path

from expatsi.access.throttle import ThrottledAuthenticationForm
from expatsi.accounts import views as twofactor_views
from expatsi.portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html",
            redirect_authenticated_user=True,
            authentication_form=ThrottledAuthenticationForm,
        ),
        name="login",
    ),
    path("login/verify/", twofactor_views.login_verify, name="login_verify"),
    path("account/two-step/", twofactor_views.two_step, name="two_step"),
    path("logout/", auth_views.LogoutView.as_view(next_page="home"), name="logout"),
    path("me/", views.me, name="me"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
]
