from django.contrib import admin

from accounts.admin_site import OrgScopedAdmin
from api.models import ApiToken, IdempotencyKey


@admin.register(ApiToken)
class ApiTokenAdmin(OrgScopedAdmin):
    list_display = ["name", "prefix", "user", "organization", "created_at", "last_used_at"]
    list_filter = ["organization"]
    search_fields = ["name", "prefix", "user__username"]
    # The digest is useless to a person and should not be edited: revoke and create instead.
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        # A form here could not show the secret once (api.tokens.token_create does), and two
        # tokens added with an empty prefix would collide on its unique index.
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(OrgScopedAdmin):
    list_display = ["endpoint", "key", "user", "organization", "job", "created_at"]
    list_filter = ["organization"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request):
        # Written by the API when a POST starts a job; a hand-made one would replay nothing.
        return False
