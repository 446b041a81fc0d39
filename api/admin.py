from django.contrib import admin

from api.models import ApiToken, IdempotencyKey


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "organization", "created_at", "last_used_at"]
    list_filter = ["organization"]
    search_fields = ["name", "prefix", "user__username"]
    # The digest is useless to a person and should not be edited: revoke and create instead.
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["endpoint", "key", "user", "organization", "job", "created_at"]
    list_filter = ["organization"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]
