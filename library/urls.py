from django.urls import path

from library import views

# Mounted at /import/templates/ (config/urls.py), where people have always found it.
app_name = "library"
urlpatterns = [
    path("", views.library, name="templates"),
    path("<int:pk>/", views.template_edit, name="template_edit"),
    path("<int:pk>/duplicate/", views.template_duplicate_view, name="template_duplicate"),
    path("<int:pk>/toggle/", views.template_toggle_view, name="template_toggle"),
    path("<int:pk>/delete/", views.template_delete_view, name="template_delete"),
    path("<int:pk>/use/", views.template_use, name="template_use"),
    path("<int:pk>/check/", views.template_field_check, name="template_field_check"),
    path("value-map-row/", views.template_value_map_row, name="template_value_map_row"),
]
