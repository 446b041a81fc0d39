"""Django admin scoped to organizations.

Who may use it:
- superusers (platform operators) see and edit everything, as in a stock Django admin;
- an active user whose current membership (``request.membership``) is an organization admin
  may use it without ``is_staff``, and sees and edits only that organization's rows;
- everyone else gets the admin's login refusal. ``is_staff`` alone grants nothing: Django's
  model permissions are global, not per organization, so they cannot say what an org may see.

For organization admins, permissions come from the membership (role admin plus, per model, an
optional code such as ``can_manage_templates``), never from Django's auth permissions. Every
queryset, every choice list of a related field, every related-field list filter and every raw-id
label is limited to the organization, and the organization field is a hidden field that can
only hold the current organization, set again on save.

A ModelAdmin registered without ``OrgScopedMixin`` (Django's own Group admin, or one added
later by someone who did not know) is open to superusers only: the site fails closed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin import AdminSite, RelatedOnlyFieldListFilter
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.contenttypes import views as contenttype_views
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import Http404
from django.urls import path

from accounts.models import Membership, Organization
from accounts.permissions import Role
from accounts.throttle import ThrottledLoginMixin

ORGANIZATION_FIELD = "organization"


def is_platform_operator(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def org_admin_membership(request) -> Membership | None:
    """The membership under which a non-superuser may use the admin, else None."""
    user = request.user
    membership = getattr(request, "membership", None)
    if not user.is_authenticated or not user.is_active or membership is None:
        return None
    if membership.user_id != user.pk or not membership.is_admin:
        return None
    return membership


def admin_scope(request) -> Organization | None:
    """The organization the request's admin pages are limited to; None for operators."""
    if is_platform_operator(request.user):
        return None
    membership = org_admin_membership(request)
    return membership.organization if membership is not None else None


def _has_organization_field(model) -> bool:
    try:
        field = model._meta.get_field(ORGANIZATION_FIELD)
    except FieldDoesNotExist:
        return False
    return field.is_relation and field.related_model is Organization


def default_organization_lookup(model) -> str | None:
    """How rows of ``model`` reach their organization, or None when they do not."""
    if model is Organization:
        return "pk"
    if model is get_user_model():
        return "memberships__organization"
    if _has_organization_field(model):
        return ORGANIZATION_FIELD
    return None


def scope_choices(admin_site, model, queryset, organization) -> models.QuerySet:
    """Limit the choices of a related field to what the organization may see of ``model``."""
    related_admin = admin_site._registry.get(model)
    if isinstance(related_admin, OrgScopedMixin):
        return related_admin.scope_queryset(queryset, organization)
    lookup = default_organization_lookup(model)
    if lookup is None:
        # Nothing ties these rows to an organization: offer none rather than everyone's.
        return queryset.none()
    return _filter_by_lookup(queryset, lookup, organization)


def _filter_by_lookup(queryset, lookup: str, organization) -> models.QuerySet:
    if lookup == "memberships__organization":
        # A subquery instead of a join: a join would repeat a user once per membership.
        members = Membership.objects.filter(organization=organization).values("user_id")
        return queryset.filter(pk__in=members)
    return queryset.filter(**{lookup: organization.pk})


class ScopedForeignKeyRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input that never prints the name of a row outside the allowed queryset.

    The stock widget looks the typed id up in the whole table to show its label, which would
    reveal another organization's record to anyone typing ids.
    """

    def __init__(self, rel, admin_site, *, queryset, **kwargs):
        self.queryset = queryset
        super().__init__(rel, admin_site, **kwargs)

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            allowed = self.queryset.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            return "", ""
        if not allowed:
            return "", ""
        return super().label_and_url_for_value(value)


class CurrentOrganizationField(forms.ModelChoiceField):
    """The organization of a row an org admin edits: hidden, only ever the current one.

    Kept on the form (not excluded) so the model's unique constraints that include the
    organization are checked as form errors instead of failing on save. Left out of a post,
    it is the current organization; any other organization is an invalid choice.
    """

    widget = forms.HiddenInput

    def __init__(self, organization, **kwargs):
        self.organization = organization
        kwargs.update(
            queryset=Organization.objects.filter(pk=organization.pk),
            initial=organization.pk,
            required=False,
        )
        super().__init__(**kwargs)

    def clean(self, value):
        return super().clean(value) or self.organization


class _ScopedFormFieldsMixin:
    """Related-field choices and the organization field, for admins and inlines alike."""

    def _organization_formfield(self, db_field, organization):
        return db_field.formfield(form_class=CurrentOrganizationField, organization=organization)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        organization = admin_scope(request)
        if (
            organization is not None
            and db_field.name == ORGANIZATION_FIELD
            and db_field.is_relation
            and db_field.related_model is Organization
        ):
            # Returned here, before the related-widget wrapper adds links to other organizations.
            return self._organization_formfield(db_field, organization)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _scoped_related_queryset(self, db_field, request, organization, queryset=None):
        if queryset is None:
            # The related admin's ordering, as Django would use.
            queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = db_field.related_model._default_manager.all()
        return scope_choices(self.admin_site, db_field.related_model, queryset, organization)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        organization = admin_scope(request)
        if organization is not None:
            queryset = self._scoped_related_queryset(
                db_field, request, organization, kwargs.get("queryset")
            )
            kwargs["queryset"] = queryset
            if "widget" not in kwargs and db_field.name in self.raw_id_fields:
                kwargs["widget"] = ScopedForeignKeyRawIdWidget(
                    db_field.remote_field, self.admin_site, queryset=queryset
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        organization = admin_scope(request)
        if organization is not None:
            kwargs["queryset"] = self._scoped_related_queryset(
                db_field, request, organization, kwargs.get("queryset")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OrgScopedMixin(_ScopedFormFieldsMixin):
    """Put before ``admin.ModelAdmin`` (or a ModelAdmin subclass such as UserAdmin)."""

    # How rows reach their organization ("organization", "job__organization", "pk", …);
    # None: derived from the model (see default_organization_lookup).
    organization_lookup: str | None = None
    # A membership code an organization admin also needs for this model, if any.
    membership_permission: str | None = None

    # --- scoping ---------------------------------------------------------------------------

    def get_organization_lookup(self) -> str | None:
        return self.organization_lookup or default_organization_lookup(self.model)

    def scope_queryset(self, queryset, organization) -> models.QuerySet:
        lookup = self.get_organization_lookup()
        if lookup is None:
            return queryset.none()
        return _filter_by_lookup(queryset, lookup, organization)

    def belongs_to(self, obj, organization) -> bool:
        if obj.pk is None:
            # Not saved yet: save_model gives it the organization.
            return True
        if self.get_organization_lookup() == ORGANIZATION_FIELD:
            return obj.organization_id == organization.pk
        base = self.model._default_manager.filter(pk=obj.pk)
        return self.scope_queryset(base, organization).exists()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_operator(request.user):
            return queryset
        membership = org_admin_membership(request)
        if membership is None:
            return queryset.none()
        return self.scope_queryset(queryset, membership.organization)

    # --- permissions: from the membership, not from Django's auth permissions --------------

    def org_admin_allows(self, request, obj=None) -> bool:
        membership = org_admin_membership(request)
        if membership is None or self.get_organization_lookup() is None:
            return False
        if self.membership_permission and not membership.has_perm(self.membership_permission):
            return False
        return obj is None or self.belongs_to(obj, membership.organization)

    def has_module_permission(self, request):
        if is_platform_operator(request.user):
            return super().has_module_permission(request)
        return self.org_admin_allows(request)

    def has_view_permission(self, request, obj=None):
        if is_platform_operator(request.user):
            return super().has_view_permission(request, obj)
        return self.org_admin_allows(request, obj)

    def has_add_permission(self, request):
        if is_platform_operator(request.user):
            return super().has_add_permission(request)
        return self.org_admin_allows(request)

    def has_change_permission(self, request, obj=None):
        if is_platform_operator(request.user):
            return super().has_change_permission(request, obj)
        return self.org_admin_allows(request, obj)

    def has_delete_permission(self, request, obj=None):
        if is_platform_operator(request.user):
            return super().has_delete_permission(request, obj)
        return self.org_admin_allows(request, obj)

    # --- what an organization admin is shown -------------------------------------------------

    def _is_organization_path(self, path: str) -> bool:
        return path == ORGANIZATION_FIELD or path.split("__")[-1] == ORGANIZATION_FIELD

    def get_list_display(self, request):
        display = super().get_list_display(request)
        if admin_scope(request) is None:
            return display
        return [f for f in display if not (isinstance(f, str) and self._is_organization_path(f))]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if admin_scope(request) is None:
            return filters
        scoped = []
        for spec in filters:
            path = spec if isinstance(spec, str) else None
            if isinstance(spec, (list, tuple)):
                path = spec[0]
            if path is not None and self._is_organization_path(path):
                continue
            if path is not None and self._is_relation_path(path):
                # The stock filter lists every row of the related table, whatever its org;
                # this one lists only values present in the (scoped) changelist.
                spec = (path, RelatedOnlyFieldListFilter)
            scoped.append(spec)
        return scoped

    def _is_relation_path(self, path: str) -> bool:
        try:
            fields = get_fields_from_path(self.model, path)
        except (FieldDoesNotExist, NotRelationField):
            return False
        return bool(fields) and fields[-1].is_relation

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if admin_scope(request) is None:
            return readonly
        # The organization becomes a hidden field holding the current organization.
        return [f for f in readonly if f != ORGANIZATION_FIELD]

    def save_model(self, request, obj, form, change):
        organization = admin_scope(request)
        if organization is not None and _has_organization_field(type(obj)):
            obj.organization = organization
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # Inline rows often leave the organization off their form; they belong with the parent.
        organization = admin_scope(request) or getattr(form.instance, ORGANIZATION_FIELD, None)
        if isinstance(organization, Organization) and _has_organization_field(formset.model):
            for inline_form in formset.forms:
                if inline_form.instance.organization_id is None:
                    inline_form.instance.organization = organization
        super().save_formset(request, form, formset, change)


class OrgScopedAdmin(OrgScopedMixin, admin.ModelAdmin):
    pass


class OrgScopedInlineMixin(_ScopedFormFieldsMixin):
    """Inlines of an OrgScopedAdmin: the parent is already scoped; choices and rights follow."""

    membership_permission: str | None = None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        organization = admin_scope(request)
        if organization is None:
            if is_platform_operator(request.user):
                return queryset
            return queryset.none()
        lookup = default_organization_lookup(self.model)
        return queryset if lookup is None else _filter_by_lookup(queryset, lookup, organization)

    def _allows(self, request) -> bool:
        membership = org_admin_membership(request)
        if membership is None:
            return False
        return not self.membership_permission or membership.has_perm(self.membership_permission)

    def has_view_permission(self, request, obj=None):
        if is_platform_operator(request.user):
            return super().has_view_permission(request, obj)
        return self._allows(request)

    def has_add_permission(self, request, obj):
        if is_platform_operator(request.user):
            return super().has_add_permission(request, obj)
        return self._allows(request)

    def has_change_permission(self, request, obj=None):
        if is_platform_operator(request.user):
            return super().has_change_permission(request, obj)
        return self._allows(request)

    def has_delete_permission(self, request, obj=None):
        if is_platform_operator(request.user):
            return super().has_delete_permission(request, obj)
        return self._allows(request)


class _OperatorsOnlyMixin:
    """Wrapped around ModelAdmins that know nothing of organizations."""

    def has_module_permission(self, request):
        return is_platform_operator(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_platform_operator(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_platform_operator(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_platform_operator(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_platform_operator(request.user) and super().has_delete_permission(request, obj)


class OrgAdminAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """The admin's login form: organization admins sign in without ``is_staff``; attempts are
    throttled like the log-in page's (one counter for both)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct %(username)s and password of an organization admin. "
            "Note that both fields may be case-sensitive."
        ),
    }
    required_css_class = "required"

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_superuser:
            return
        if not Membership.objects.filter(user=user, role=Role.ADMIN).exists():
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class FerryAdminSite(AdminSite):
    site_header = "Ferry administration"
    site_title = "Ferry admin"
    index_title = "Records, jobs and templates"
    login_form = OrgAdminAuthenticationForm

    def has_permission(self, request):
        return is_platform_operator(request.user) or org_admin_membership(request) is not None

    def each_context(self, request):
        context = super().each_context(request)
        organization = admin_scope(request)
        if organization is not None:
            context["site_header"] = f"Ferry administration: {organization.name}"
        return context

    def get_urls(self):
        # "View on site" looks any object of any model up by id, whatever its organization: an
        # existence probe across organizations. Only operators get it.
        return [
            path(
                "r/<int:content_type_id>/<path:object_id>/",
                self.admin_view(self.view_on_site),
                name="view_on_site",
            )
            if getattr(pattern, "name", None) == "view_on_site"
            else pattern
            for pattern in super().get_urls()
        ]

    def view_on_site(self, request, content_type_id, object_id):
        if not is_platform_operator(request.user):
            raise Http404("Not found.")
        return contenttype_views.shortcut(request, content_type_id, object_id)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, OrgScopedMixin):
            admin_class = type(
                admin_class.__name__,
                (_OperatorsOnlyMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
