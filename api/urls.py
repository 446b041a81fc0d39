from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from api import documents, pages, schedules, sync
from api.views import common, exports, imports, jobs, resources, templates

app_name = "api"

router = SimpleRouter()
router.register("v1/data-jobs", jobs.DataJobViewSet, basename="datajob")
router.register("v1/resources", resources.ResourceViewSet, basename="resource")
router.register("v1/templates", templates.DataTemplateViewSet, basename="template")
router.register("v1/schedules", schedules.ScheduleViewSet, basename="schedule")
router.register("v1/schedule-history", schedules.HistoryViewSet, basename="schedule-run")
router.register("v1/sync-connections", sync.ConnectionViewSet, basename="sync-connection")
router.register("v1/sync-runs", sync.SyncRunViewSet, basename="sync-run")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", pages.docs, name="docs"),
    path("tokens/", pages.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke_view, name="token-revoke"),
    path("v1/reports/", exports.ReportListView.as_view(), name="report-list"),
    path(
        "v1/reports/<slug:report>/export/",
        exports.ReportExportView.as_view(),
        name="report-export",
    ),
    path(
        "v1/schedule-notifications/",
        schedules.NotificationSettingsView.as_view(),
        name="schedule-notifications",
    ),
    path(
        "v1/sales-orders/documents/<slug:kind>/",
        documents.OrderDocumentsBatchView.as_view(),
        name="documents-batch",
    ),
    path(
        "v1/sales-orders/<int:pk>/documents/<slug:kind>/",
        documents.OrderDocumentView.as_view(),
        name="document",
    ),
    *router.urls,
    path(
        "v1/<slug:resource>/export/", exports.ResourceExportView.as_view(), name="resource-export"
    ),
    path(
        "v1/<slug:resource>/import/", imports.ResourceImportView.as_view(), name="resource-import"
    ),
    # Anything else under /api/ is a JSON 404 too (e.g. a job id that is not a number, or a path
    # with a newline in it, which "." would not match).
    re_path(r"^[\s\S]*$", common.not_found, name="not-found"),
]
