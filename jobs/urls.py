from django.urls import path

from jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("worker-check/", views.worker_check, name="worker_check"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/mark-failed/", views.mark_failed, name="mark_failed"),
    path("<int:pk>/download/<slug:kind>/", views.download, name="download"),
]
