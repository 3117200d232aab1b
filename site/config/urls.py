from django.conf import settings
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from points.leaderboards import views as leaderboard_views

from .api import api

urlpatterns = [
    # Before Wagtail's admin: the dashboard answers non-staff with a 403 instead of Wagtail's redirect.
    path("admin/statistics/", include("dashboard.urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/auth/", include("allauth.headless.urls")),
    path("api/v1/", api.urls),
    path("", include("core.urls")),
    path("", include("volunteers.urls")),
    path("", include("volunteers.gridtasks.urls")),
    path("", include("cms.urls")),
    # The person's points page, "points:mine" (the tab bar's "Points"): a leaderboards view.
    path("points/", include(([path("", leaderboard_views.mine, name="mine")], "points"))),
    path("points/", include("points.leaderboards.urls")),
    path("cases/", include("points.cases.urls")),
    path("rewards/", include("points.redemption.urls")),
    path("certificates/", include("points.certificates.urls")),
    path("services/", include("services_catalog.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns.append(path("", include(wagtail_urls)))
