from django.urls import path

from reports.schedules import views

# Mounted under /export/ by reports.urls, before the export builder's "<slug:resource>/".
urlpatterns = [
    path("schedules/", views.schedule_list, name="schedules"),
    path("schedules/new/", views.schedule_edit, name="schedule_new"),
    path("schedules/notifications/", views.notification_settings, name="schedule_notifications"),
    path("schedules/form/params/", views.schedule_form_params, name="schedule_form_params"),
    path(
        "schedules/form/recurrence/",
        views.schedule_form_recurrence,
        name="schedule_form_recurrence",
    ),
    path(
        "schedules/files/<int:file>/", views.schedule_file_download, name="schedule_file_download"
    ),
    path("schedules/link/<str:token>/", views.schedule_file_link, name="schedule_file_link"),
    path("schedules/<int:pk>/", views.schedule_detail, name="schedule_detail"),
    path("schedules/<int:pk>/edit/", views.schedule_edit, name="schedule_edit"),
    path(
        "schedules/<int:pk>/<str:action>/",
        views.schedule_action,
        name="schedule_action",
    ),
    path("schedules/<int:pk>/history/<int:run>/", views.schedule_run, name="schedule_run"),
]
