from django.urls import path

from reports.exports import views

# Mounted under /export/ by reports/urls.py (app namespace "reports").
urlpatterns = [
    path("", views.export_builder, name="export"),
    path("preview/", views.export_preview_view, name="export_preview"),
    path("templates/save/", views.export_template_save_view, name="export_template_save"),
    path("templates/<int:pk>/run/", views.export_template_run, name="export_template_run"),
    path(
        "templates/<int:pk>/delete/",
        views.export_template_delete_view,
        name="export_template_delete",
    ),
]
