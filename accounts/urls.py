from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views, views_members

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch/", views.organization_switch, name="switch"),
    path("no-organization/", views.no_organization, name="no_organization"),
    path("settings/", views.organization_settings, name="settings"),
    path("settings/logo/", views.organization_logo, name="logo"),
    path("members/", views_members.members, name="members"),
    path("members/<int:pk>/", views_members.member_detail, name="member"),
    path("members/<int:pk>/remove/", views_members.member_delete, name="member_remove"),
    path(
        "invitations/<int:pk>/withdraw/",
        views_members.invitation_delete,
        name="invitation_withdraw",
    ),
    path("invitation/<str:token>/", views_members.invitation, name="invitation"),
]
