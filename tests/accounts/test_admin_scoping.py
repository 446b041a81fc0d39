"""The Django admin is organization-scoped: an org admin sees and edits only their organization.

Superusers (platform operators) see everything; an org admin needs no ``is_staff``; any other
member is refused before a single row is read.
"""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts.admin_site import OrgScopedMixin, default_organization_lookup
from accounts.middleware import SESSION_KEY
from accounts.models import Membership, Organization
from accounts.permissions import MANAGE_TEMPLATES, VIEW_AUDIT, Role
from api.models import ApiToken, IdempotencyKey
from api.tokens import token_create
from business import models as m
from business.resources import registry
from jobs.models import DataJob, JobLogEntry, WorkerHeartbeat
from jobs.services import job_create, job_log
from library.models import DataTemplate
from tests import factories as f
from tests.business.test_records_pages import BUILDERS as RECORD_BUILDERS

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "pass-Word-123"


def _job(org, user):
    return job_create(organization=org, user=user, job_type=DataJob.Type.IMPORT, target="contacts")


def _log_entry(org, user):
    job = _job(org, user)
    job_log(job=job, entries=[dict(row_number=2, column="email", value="x", message="Bad.")])
    return job.log_entries.get()


def _idempotency_key(org, user):
    return IdempotencyKey.objects.create(
        user=user,
        organization=org,
        endpoint="POST /api/v1/contacts/import/",
        key=f"key-{org.slug}",
        request_hash="0" * 64,
        job=_job(org, user),
        response_status=202,
    )


# One row per organization of every model the admin shows: (organization, its admin) -> row.
BUILDERS = {
    Organization: lambda org, user: org,
    Membership: lambda org, user: Membership.objects.get(organization=org, user=user),
    User: lambda org, user: user,
    DataJob: _job,
    JobLogEntry: _log_entry,
    DataTemplate: lambda org, user: DataTemplate.objects.create(
        organization=org, name="Weekly contacts", resource="contacts", created_by=user
    ),
    m.AuditEvent: lambda org, user: RECORD_BUILDERS["audit-events"](org),
    IdempotencyKey: _idempotency_key,
    ApiToken: lambda org, user: token_create(user=user, organization=org, name="CI")[0],
    **{
        registry.get(name).model: (lambda org, user, build=build: build(org))
        for name, build in RECORD_BUILDERS.items()
    },
}
MODELS = sorted(BUILDERS, key=lambda model: model._meta.label)


def _label(model) -> str:
    return model._meta.label_lower


def _url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _scoped(model, organization):
    """What the admin should show of ``model`` to ``organization``'s admin."""
    model_admin = admin.site._registry[model]
    return model_admin.scope_queryset(model._default_manager.all(), organization)


@pytest.fixture
def superuser_client(client_for):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    return client_for(root)


@pytest.fixture
def both(org, other_org, owner, other_user):
    """Build one row of a model in each organization."""

    def build(model):
        return BUILDERS[model](org, owner), BUILDERS[model](other_org, other_user)

    return build


def _listed_pks(response) -> set:
    assert response.status_code == 200, response.status_code
    return {obj.pk for obj in response.context["cl"].result_list}


def _assert_not_shown(response, *, index_url="/django-admin/"):
    # Django admin answers a missing object with a redirect to the index, never with its data.
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"] == index_url


# --- the site's registry --------------------------------------------------------------------


# Platform models that belong to no organization: open to superusers only (the site fails
# closed for them), never to an organization's admins.
PLATFORM_MODELS = {Group, WorkerHeartbeat}


def test_it_scopes_every_registered_model_but_the_platforms_own():
    unscoped = {
        model
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, OrgScopedMixin)
    }
    assert unscoped == PLATFORM_MODELS
    scoped = set(admin.site._registry) - unscoped
    assert scoped == set(BUILDERS)
    for model in scoped:
        assert admin.site._registry[model].get_organization_lookup(), model


@pytest.mark.parametrize("model", sorted(PLATFORM_MODELS, key=str), ids=_label)
def test_it_keeps_platform_models_for_superusers(model, owner_client, superuser_client):
    assert owner_client.get(_url(model, "changelist")).status_code == 403
    assert superuser_client.get(_url(model, "changelist")).status_code == 200
    index = owner_client.get("/django-admin/").content.decode()
    assert _url(model, "changelist") not in index


def test_it_fails_closed_for_an_admin_registered_without_scoping(owner_client, org):
    site = admin.site._wrapped.__class__(name="probe")
    site.register(m.Warehouse, admin.ModelAdmin)
    model_admin = site._registry[m.Warehouse]
    request = owner_client.get("/django-admin/").wsgi_request
    assert not model_admin.has_view_permission(request)
    assert not model_admin.has_module_permission(request)


# --- every model: own rows only ---------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_it_lists_an_org_admin_only_their_organizations_rows(
    model, both, owner_client, other_client, org, other_org
):
    mine, theirs = both(model)
    url = _url(model, "changelist")

    own_view = _listed_pks(owner_client.get(url))
    assert mine.pk in own_view and theirs.pk not in own_view
    assert own_view == set(_scoped(model, org).values_list("pk", flat=True))

    their_view = _listed_pks(other_client.get(url))
    assert theirs.pk in their_view and mine.pk not in their_view
    assert not their_view & set(_scoped(model, org).values_list("pk", flat=True))


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_it_opens_only_own_rows(model, both, owner_client, other_client):
    mine, theirs = both(model)
    assert owner_client.get(_url(model, "change", mine.pk)).status_code == 200
    _assert_not_shown(owner_client.get(_url(model, "change", theirs.pk)))
    _assert_not_shown(other_client.get(_url(model, "change", mine.pk)))
    history = owner_client.get(_url(model, "history", theirs.pk))
    _assert_not_shown(history)
    assert owner_client.post(_url(model, "delete", theirs.pk), {"post": "yes"}).status_code in (
        302,
        403,
        404,
    )
    assert model._default_manager.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_it_shows_a_superuser_every_organization(model, both, superuser_client):
    mine, theirs = both(model)
    listed = _listed_pks(superuser_client.get(_url(model, "changelist")))
    assert {mine.pk, theirs.pk} <= listed
    assert superuser_client.get(_url(model, "change", theirs.pk)).status_code == 200


# --- who gets in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "member", "viewer", "outsider"])
def test_it_refuses_everyone_but_org_admins(who, request, client_for, both):
    mine, _ = both(m.Contact)
    user = request.getfixturevalue(who)
    client = client_for(user)
    for url in (
        "/django-admin/",
        _url(m.Contact, "changelist"),
        _url(m.Contact, "change", mine.pk),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/django-admin/login/")
    login = client.get("/django-admin/login/")
    assert "not authorized to access this page" in login.content.decode()
    assert mine.email not in login.content.decode()


def test_it_gives_is_staff_alone_nothing(viewer, client_for, both):
    # Django's staff flag and model permissions are global: they cannot be scoped to an org.
    viewer.is_staff = True
    viewer.save()
    response = client_for(viewer).get(_url(m.Contact, "changelist"))
    assert response.status_code == 302


def test_it_follows_the_current_membership(owner, org, other_org, client_for):
    f.MembershipFactory(user=owner, organization=other_org, role=Role.VIEWER)
    client = client_for(owner)
    assert client.get("/django-admin/").status_code == 200
    session = client.session
    session[SESSION_KEY] = other_org.pk
    session.save()
    # Acting as a viewer of the rival organization now: no admin, not even for the first one.
    assert client.get("/django-admin/").status_code == 302


def test_it_lets_an_org_admin_sign_in_without_is_staff(owner, member, client):
    for user in (owner, member):
        user.set_password(PASSWORD)
        user.save()
    assert not owner.is_staff
    refused = client.post(
        "/django-admin/login/",
        {"username": "member", "password": PASSWORD, "next": "/django-admin/"},
    )
    assert refused.status_code == 200
    assert "password of an organization admin" in refused.content.decode()
    signed_in = client.post(
        "/django-admin/login/",
        {"username": "owner", "password": PASSWORD, "next": "/django-admin/"},
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/django-admin/"
    index = client.get("/django-admin/")
    assert index.status_code == 200
    assert "Ferry administration: Demo Trading Co." in index.content.decode()


def test_it_keeps_view_on_site_lookups_for_superusers(both, owner_client):
    _, theirs = both(m.Contact)
    content_type = ContentType.objects.get_for_model(m.Contact)
    existing = owner_client.get(reverse("admin:view_on_site", args=[content_type.pk, theirs.pk]))
    missing = owner_client.get(
        reverse("admin:view_on_site", args=[content_type.pk, theirs.pk + 1000])
    )
    # The same answer whether or not another organization has such a row (Ferry's 404 page
    # carries a CSRF token, masked afresh for every response).
    assert existing.status_code == missing.status_code == 404
    token = re.compile(rb"[A-Za-z0-9]{64}")
    assert token.sub(b"", existing.content) == token.sub(b"", missing.content)


def test_it_takes_model_permissions_from_the_membership(owner, org, owner_client, both):
    both(DataTemplate)
    both(m.AuditEvent)
    assert owner_client.get(_url(DataTemplate, "changelist")).status_code == 200
    Membership.objects.filter(user=owner, organization=org).update(
        revoked_permissions=[MANAGE_TEMPLATES, VIEW_AUDIT]
    )
    assert owner_client.get(_url(DataTemplate, "changelist")).status_code == 403
    assert owner_client.get(_url(m.AuditEvent, "changelist")).status_code == 403
    assert owner_client.get(_url(m.Contact, "changelist")).status_code == 200


def test_it_shows_the_nav_link_to_admins_only(owner_client, member_client):
    assert 'href="/django-admin/"' in owner_client.get("/jobs/").content.decode()
    assert 'href="/django-admin/"' not in member_client.get("/jobs/").content.decode()


# --- forms: choices, the organization field, saving --------------------------------------------


def _choice_fields(response):
    form = response.context["adminform"].form
    fields = [(name, field) for name, field in form.fields.items()]
    for inline in response.context["inline_admin_formsets"]:
        # The hidden primary-key field names the row being edited, not a choice a person makes;
        # the formset looks rows up in its own (parent's) queryset.
        pk_name = inline.formset.model._meta.pk.name
        fields += [
            (name, field)
            for name, field in inline.formset.empty_form.fields.items()
            if name != pk_name
        ]
    return [(n, fld) for n, fld in fields if isinstance(fld, forms.ModelChoiceField)]


ADDABLE = [
    model
    for model in MODELS
    if model not in (Organization, Membership, User, DataJob, JobLogEntry, m.AuditEvent)
    and model not in (ApiToken, IdempotencyKey)
]


@pytest.mark.parametrize("model", ADDABLE, ids=_label)
def test_it_offers_only_the_organizations_records_as_choices(
    model, owner_client, org, other_org, owner, other_user
):
    for every in MODELS:
        BUILDERS[every](org, owner)
        BUILDERS[every](other_org, other_user)
    response = owner_client.get(_url(model, "add"))
    assert response.status_code == 200
    fields = _choice_fields(response)
    assert fields
    for name, field in fields:
        related = field.queryset.model
        offered = set(field.queryset.values_list("pk", flat=True))
        theirs = set(_scoped(related, other_org).values_list("pk", flat=True))
        assert not offered & theirs, (model, name)
        if default_organization_lookup(related) or related in admin.site._registry:
            assert offered <= set(_scoped(related, org).values_list("pk", flat=True)), name
    form = response.context["adminform"].form
    assert list(form.fields["organization"].queryset) == [org]
    assert form.fields["organization"].widget.is_hidden
    html = response.content.decode()
    assert "Rival Imports Ltd" not in html


def test_it_sets_the_organization_on_a_new_record(owner_client, org, other_org):
    response = owner_client.post(
        _url(m.Warehouse, "add"), {"code": "WH-NEW", "name": "Harbour", "city": "Hull"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert m.Warehouse.objects.get(code="WH-NEW").organization == org

    forged = owner_client.post(
        _url(m.Warehouse, "add"),
        {"code": "WH-FORGED", "name": "Elsewhere", "organization": other_org.pk},
    )
    assert forged.status_code == 200
    assert not m.Warehouse.objects.filter(code="WH-FORGED").exists()


def test_it_refuses_another_organizations_record_typed_into_a_raw_id_field(
    owner_client, org, other_org
):
    theirs = f.AccountFactory(organization=other_org, name="Secret Rival Account")
    response = owner_client.post(
        _url(m.Contact, "add"),
        {"email": "new@example.com", "account": theirs.pk, "lifecycle_stage": "lead"},
    )
    assert response.status_code == 200
    assert "account" in response.context["adminform"].form.errors
    assert "Secret Rival Account" not in response.content.decode()
    assert not m.Contact.objects.filter(email="new@example.com").exists()

    mine = f.AccountFactory(organization=org, name="Our Account")
    page = owner_client.get(_url(m.Contact, "add"), {"account": mine.pk})
    assert "Our Account" in page.content.decode()


def test_it_checks_unique_names_within_the_organization(owner_client, org, owner):
    DataTemplate.objects.create(organization=org, name="Weekly", resource="contacts")
    data = {
        "name": "Weekly",
        "template_type": "import",
        "resource": "contacts",
        "mapping": "{}",
        "options": "{}",
        "rules": "{}",
        "on_duplicate": "skip",
        "mode": "skip-invalid",
        "is_active": "on",
        "created_by": owner.pk,
    }
    duplicate = owner_client.post(_url(DataTemplate, "add"), data)
    assert duplicate.status_code == 200
    assert "already exists" in duplicate.content.decode()
    created = owner_client.post(_url(DataTemplate, "add"), {**data, "name": "Monthly"})
    assert created.status_code == 302
    assert DataTemplate.objects.get(name="Monthly").organization == org


def test_it_gives_inline_rows_the_organization(owner_client, org, other_org):
    order = RECORD_BUILDERS["sales-orders"](org)
    mine = f.ProductFactory(organization=org, sku="OWN-1")
    theirs = f.ProductFactory(organization=other_org, sku="RIVAL-1")
    page = owner_client.get(_url(m.SalesOrder, "change", order.pk))
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data.update(
        {
            "customer": order.customer_id,
            "order_date": order.order_date.isoformat(),
            "organization": org.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-line_number": "1",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "9.50",
            "lines-0-unit_cost": "4.00",
            "lines-0-discount": "0",
            "lines-0-tax": "0",
        }
    )
    if order.warehouse_id:
        data["warehouse"] = order.warehouse_id
    refused = owner_client.post(
        _url(m.SalesOrder, "change", order.pk), {**data, "lines-0-product": theirs.pk}
    )
    assert refused.status_code == 200
    assert not order.lines.exists()
    saved = owner_client.post(
        _url(m.SalesOrder, "change", order.pk), {**data, "lines-0-product": mine.pk}
    )
    assert saved.status_code == 302, saved.context and saved.context["errors"]
    line = order.lines.get()
    assert line.product == mine and line.organization == org


def test_it_limits_related_list_filters_to_the_organization(owner_client, org, other_org):
    f.StockItemFactory(
        organization=org,
        product=f.ProductFactory(organization=org),
        warehouse=f.WarehouseFactory(organization=org, name="Our Depot"),
    )
    f.StockItemFactory(
        organization=other_org,
        product=f.ProductFactory(organization=other_org),
        warehouse=f.WarehouseFactory(organization=other_org, name="Rival Depot"),
    )
    html = owner_client.get(_url(m.StockItem, "changelist")).content.decode()
    assert "Our Depot" in html
    assert "Rival Depot" not in html and "Rival Imports Ltd" not in html
    # Filtering by organization is not offered, and a hand-made filter finds nothing.
    assert "organization__id__exact" not in html
    response = owner_client.get(
        _url(m.StockItem, "changelist"), {"organization__id__exact": other_org.pk}
    )
    assert _listed_pks(response) == set()


# --- organizations, memberships and users ---------------------------------------------------------


def test_it_lets_an_org_admin_edit_only_their_organization(owner_client, org, other_org):
    assert _listed_pks(owner_client.get(_url(Organization, "changelist"))) == {org.pk}
    assert owner_client.get(_url(Organization, "add")).status_code == 403
    assert owner_client.get(_url(Organization, "delete", org.pk)).status_code == 403
    response = owner_client.post(
        _url(Organization, "change", org.pk),
        {
            "name": "Demo Trading Company",
            "slug": org.slug,
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Demo Trading Company"


def test_it_lets_an_org_admin_change_roles_of_their_members(
    owner, member, org, other_user, owner_client
):
    mine = Membership.objects.get(user=member, organization=org)
    response = owner_client.post(
        _url(Membership, "change", mine.pk),
        {
            "role": Role.MANAGER,
            "granted_permissions": "[]",
            "revoked_permissions": "[]",
            "organization": org.pk,
            # The user is read-only here: a posted user is ignored.
            "user": other_user.pk,
        },
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.role == Role.MANAGER and mine.user == member

    assert owner_client.get(_url(Membership, "add")).status_code == 403
    own = Membership.objects.get(user=owner, organization=org)
    assert owner_client.get(_url(Membership, "delete", own.pk)).status_code == 403
    assert owner_client.get(_url(Membership, "delete", mine.pk)).status_code == 200
    changelist = owner_client.get(_url(Membership, "changelist")).content.decode()
    assert "Rival Imports Ltd" not in changelist


def test_it_shows_org_admins_their_members_without_platform_rights(
    owner, member, other_user, owner_client
):
    listed = _listed_pks(owner_client.get(_url(User, "changelist")))
    assert listed == {owner.pk, member.pk}
    page = owner_client.get(_url(User, "change", member.pk))
    fields = set(page.context["adminform"].form.fields)
    assert {"is_superuser", "is_staff", "groups", "user_permissions"}.isdisjoint(fields)
    response = owner_client.post(
        _url(User, "change", member.pk),
        {
            "username": "member",
            "first_name": "Mia",
            "last_name": "Ops",
            "email": "member@example.com",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.first_name == "Mia"
    assert not member.is_superuser and not member.is_staff

    assert owner_client.get(_url(User, "add")).status_code == 403
    assert owner_client.get(_url(User, "delete", member.pk)).status_code == 403
    _assert_not_shown(owner_client.get(_url(User, "change", other_user.pk)))
    password = owner_client.get(reverse("admin:auth_user_password_change", args=[other_user.pk]))
    assert password.status_code in (302, 404)


def test_it_leaves_logins_shared_with_another_organization_alone(
    member, org, other_org, owner_client
):
    f.MembershipFactory(user=member, organization=other_org, role=Role.VIEWER)
    page = owner_client.get(_url(User, "change", member.pk))
    assert page.status_code == 200
    # View only: no form fields to post, and a post is refused.
    assert not page.context["has_change_permission"]
    response = owner_client.post(
        _url(User, "change", member.pk),
        {"username": "hijacked", "email": "x@example.com", "is_active": "on"},
    )
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.username == "member"
    password = owner_client.get(reverse("admin:auth_user_password_change", args=[member.pk]))
    assert password.status_code == 403


def test_it_autocompletes_only_members(owner, member, other_user, owner_client):
    response = owner_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "membership", "field_name": "user", "term": ""},
    )
    assert response.status_code == 200
    assert {int(r["id"]) for r in response.json()["results"]} == {owner.pk, member.pk}
