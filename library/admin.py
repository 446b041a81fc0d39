"""Django admin for saved templates: admins curate the organization's shared templates here too."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from accounts.admin_site import OrgScopedAdmin
from accounts.permissions import MANAGE_TEMPLATES
from library.models import DataTemplate
from library.schema import TemplateShapeError, template_problem, template_validate
from library.selectors import template_stale_fields
from library.services import template_audit


class DataTemplateAdminForm(forms.ModelForm):
    """The admin edits the JSON parts as text: they must have the shape the wizard reads."""

    class Meta:
        model = DataTemplate
        fields = ("mapping", "options", "rules", "template_type")

    def clean(self):
        data = super().clean()
        if not any(self.has_error(part) for part in ("mapping", "options", "rules")):
            try:
                template_validate(
                    template_type=data.get("template_type") or DataTemplate.Type.IMPORT,
                    mapping=data.get("mapping"),
                    options=data.get("options"),
                    rules=data.get("rules"),
                )
            except TemplateShapeError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


class StaleFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("yes", "Refers to fields that no longer exist"), ("no", "Healthy")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        stale = [t.pk for t in queryset if template_stale_fields(t) or template_problem(t)]
        if self.value() == "yes":
            return queryset.filter(pk__in=stale)
        return queryset.exclude(pk__in=stale)


@admin.register(DataTemplate)
class DataTemplateAdmin(OrgScopedAdmin):
    form = DataTemplateAdminForm
    list_display = (
        "name",
        "organization",
        "template_type",
        "resource",
        "is_shared",
        "is_active",
        "stale_fields",
        "problem",
        "created_by",
        "last_used_at",
    )
    list_filter = (
        "template_type",
        "is_shared",
        "is_active",
        "resource",
        StaleFilter,
        "organization",
    )
    search_fields = ("name", "description", "resource", "organization__name")
    list_select_related = ("organization", "created_by")
    readonly_fields = ("created_at", "updated_at", "last_used_at", "stale_fields", "problem")
    autocomplete_fields = ()
    actions = ("activate", "deactivate")
    membership_permission = MANAGE_TEMPLATES
    fieldsets = (
        (None, {"fields": ("organization", "name", "description", "template_type", "resource")}),
        ("Mapping", {"fields": ("mapping", "options", "rules", "stale_fields", "problem")}),
        ("Behaviour", {"fields": ("on_duplicate", "mode", "is_shared", "is_active")}),
        ("History", {"fields": ("created_by", "created_at", "updated_at", "last_used_at")}),
    )

    @admin.display(description="Missing fields")
    def stale_fields(self, obj: DataTemplate) -> str:
        return ", ".join(template_stale_fields(obj)) or "—"

    @admin.display(description="Needs attention")
    def problem(self, obj: DataTemplate) -> str:
        return template_problem(obj) or "—"

    # Changes made here are audited like those made on the library pages and the API.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        template_audit(
            template=obj,
            user=request.user,
            action="updated" if change else "created",
            fields=sorted(form.changed_data),
            via="admin",
        )

    def delete_model(self, request, obj):
        template_audit(template=obj, user=request.user, action="deleted", via="admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for template in queryset:
            template_audit(template=template, user=request.user, action="deleted", via="admin")
        super().delete_queryset(request, queryset)

    def _set_active(self, request, queryset, active: bool) -> None:
        for template in queryset.exclude(is_active=active):
            template.is_active = active
            template.save(update_fields=["is_active", "updated_at"])
            template_audit(
                template=template,
                user=request.user,
                action="updated",
                fields=["is_active"],
                via="admin",
            )

    @admin.action(description="Activate selected templates")
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected templates")
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)
