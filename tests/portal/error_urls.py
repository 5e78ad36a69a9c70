"""The site's URLs plus a page that fails, to see the 500 page (tests only)."""

from django.urls import path

from expatsi.urls import handler400, handler403, handler404, handler500, urlpatterns


def boom(request: object) -> None:
    raise RuntimeError("boom")


urlpatterns = [
    path("zh-hans/boom/", boom),
    path("boom/", boom),
    path("api/v1/boom/", boom),
    *urlpatterns,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
