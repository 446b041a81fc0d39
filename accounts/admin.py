"""Admin for organizations, memberships and users, scoped for organization admins.

An organization admin manages the roles of their organization's members here; creating users,
superusers or staff, and anything about another organization, stays with platform operators.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from accounts.admin_site import (
    OrgScopedAdmin,
    OrgScopedInlineMixin,
    OrgScopedMixin,
    admin_scope,
)
from accounts.models import Membership, Organization
from accounts.permissions import MANAGE_MEMBERS

User = get_user_model()


class MembershipInline(OrgScopedInlineMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "granted_permissions", "revoked_permissions", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    membership_permission = MANAGE_MEMBERS

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if admin_scope(request) is None:
            return readonly
        # Members join through their own invitation, not by an admin picking a user.
        return ("user", *readonly)

    def has_add_permission(self, request, obj):
        if admin_scope(request) is not None:
            return False
        return super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Removing a member is done on the membership list, where removing oneself is refused.
        if admin_scope(request) is not None:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdmin):
    list_display = ("name", "slug", "member_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    # Address, currency, formats and logo are edited on the settings page, which sniffs logos.
    fields = ("name", "slug")
    inlines = [MembershipInline]

    @admin.display(description="Members")
    def member_count(self, obj: Organization) -> int:
        return obj.memberships.count()

    def has_add_permission(self, request):
        if admin_scope(request) is not None:
            return False
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        if admin_scope(request) is not None:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Membership)
class MembershipAdmin(OrgScopedAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__email", "organization__name")
    list_select_related = ("user", "organization")
    autocomplete_fields = ("user", "organization")
    membership_permission = MANAGE_MEMBERS

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if admin_scope(request) is None:
            return readonly
        return ("user", *readonly)

    def has_add_permission(self, request):
        # Every member already has their membership; a new one could only name a stranger.
        if admin_scope(request) is not None:
            return False
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if admin_scope(request) is not None and obj is not None and obj.user_id == request.user.pk:
            # Removing oneself would lock the organization's admin out mid-page.
            return False
        return allowed


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class FerryUserAdmin(OrgScopedMixin, UserAdmin):
    """Operators: Django's user admin. Organization admins: their members' names and status."""

    membership_permission = MANAGE_MEMBERS
    org_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )

    def get_fieldsets(self, request, obj=None):
        if admin_scope(request) is None:
            return super().get_fieldsets(request, obj)
        return self.org_fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if admin_scope(request) is None:
            return readonly
        return (*readonly, "last_login", "date_joined")

    def get_list_display(self, request):
        if admin_scope(request) is None:
            return super().get_list_display(request)
        return ("username", "email", "first_name", "last_name", "is_active")

    def get_list_filter(self, request):
        if admin_scope(request) is None:
            return super().get_list_filter(request)
        return ("is_active",)

    def has_add_permission(self, request):
        if admin_scope(request) is not None:
            return False
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Deleting a user would remove them from every organization they belong to.
        if admin_scope(request) is not None:
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        organization = admin_scope(request)
        if not allowed or organization is None or obj is None:
            return allowed
        # A login shared with another organization, or one that carries platform rights, is not
        # this organization's to rename, deactivate or give a new password.
        if obj.is_superuser or obj.is_staff:
            return False
        return not Membership.objects.filter(user=obj).exclude(organization=organization).exists()
