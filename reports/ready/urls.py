from django.urls import path

from reports.ready import views

# Mounted under /export/ by reports/urls.py (app namespace "reports").
urlpatterns = [
    path("reports/", views.report_list, name="reports"),
    path("reports/<slug:identifier>/", views.report_page, name="report"),
    path("reports/<slug:identifier>/jobs/<int:pk>/", views.report_job, name="report_job"),
    path(
        "reports/<slug:identifier>/jobs/<int:pk>/status/",
        views.report_job_status,
        name="report_job_status",
    ),
]
