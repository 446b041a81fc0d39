from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:dashboard", permanent=False), name="home"),
    path("accounts/", include("accounts.urls")),
    path("jobs/", include("jobs.urls")),
    path("records/", include("business.urls")),
    # The template library before the wizard: both live under /import/.
    path("import/templates/", include("library.urls")),
    path("import/", include("wizard.urls")),
    path("export/", include("reports.urls")),
    path("documents/", include("reports.documents.urls")),
    path("sync/", include("sync.urls")),
    path("api/", include("api.urls")),
    path("django-admin/", admin.site.urls),
]
