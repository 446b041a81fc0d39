from django.urls import path

from sync import views

app_name = "sync"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("new/", views.connection_new, name="new"),
    path("<int:pk>/", views.connection_detail, name="detail"),
    path("<int:pk>/test/", views.connection_check, name="test"),
    path("<int:pk>/settings/", views.connection_settings, name="settings"),
    path("<int:pk>/sync/", views.sync_now, name="start"),
    path("<int:pk>/mapping/", views.connection_mapping, name="mapping"),
    path(
        "<int:pk>/mapping/preview/", views.connection_mapping_preview_view, name="mapping-preview"
    ),
    path("runs/<int:pk>/", views.run_detail, name="run"),
]
