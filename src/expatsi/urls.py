from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from expatsi import health
from expatsi.access.views import set_language
from expatsi.api import api
from expatsi.employers.views import invitation_accept
from expatsi.web.error_views import favicon

handler400 = "expatsi.access.views.bad_request"  # an over-large body is 413
handler403 = "expatsi.web.error_views.permission_denied"
handler404 = "expatsi.web.error_views.page_not_found"
handler500 = "expatsi.web.error_views.server_error"

urlpatterns = [
    path("api/v1/", api.urls),
    # Probes (expatsi.health): liveness without the database, readiness with it.
    path("healthz", health.healthz, name="health"),
    path("readyz", health.readyz, name="ready"),
    path("favicon.ico", favicon, name="favicon"),
    path("i18n/setlang/", set_language, name="set_language"),
]
urlpatterns += i18n_patterns(
    path("", include("expatsi.portal.urls")),
    path("", include("expatsi.insurance.urls")),
    path("inbox/", include("expatsi.notify.urls")),
    path("audit/", include("expatsi.portal.audit_urls")),
    path("cards/", include("expatsi.cards.urls")),
    path("billing/", include("expatsi.billing.urls")),
    path("benefits/", include("expatsi.benefits.urls")),
    path("cases/", include("expatsi.cases.urls")),
    path("invitations/<str:token>/", invitation_accept, name="hr_invitation"),
    path("admin/", admin.site.urls),
    path("administration/", include("expatsi.employers.admin_urls")),
    prefix_default_language=False,
)
