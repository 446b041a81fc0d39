from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.text import slugify

from accounts.permissions import Role, codes_for

# A small, explicit set: each locale maps to separators and a date pattern in accounts/formats.py.
LOCALE_CHOICES = [
    ("en-GB", "English (United Kingdom)"),
    ("en-US", "English (United States)"),
    ("en-IE", "English (Ireland)"),
    ("de-DE", "Deutsch (Deutschland)"),
    ("de-CH", "Deutsch (Schweiz)"),
    ("fr-FR", "Français (France)"),
    ("fr-CH", "Français (Suisse)"),
    ("nl-NL", "Nederlands (Nederland)"),
    ("it-IT", "Italiano (Italia)"),
    ("es-ES", "Español (España)"),
]
CURRENCY_CHOICES = [
    ("GBP", "GBP · Pound sterling"),
    ("EUR", "EUR · Euro"),
    ("USD", "USD · US dollar"),
    ("CHF", "CHF · Swiss franc"),
    ("SEK", "SEK · Swedish krona"),
    ("NOK", "NOK · Norwegian krone"),
    ("DKK", "DKK · Danish krone"),
    ("PLN", "PLN · Polish złoty"),
    ("CAD", "CAD · Canadian dollar"),
    ("AUD", "AUD · Australian dollar"),
    ("JPY", "JPY · Japanese yen"),
]


def organization_logo_path(instance: Organization, filename: str) -> str:
    # Under the organization, never guessable from the outside: logos are served only through
    # an authenticated view or embedded into PDFs, never from a public media URL.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"organizations/{instance.pk}/logo.{suffix}"


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What business documents and reports print about the organization.
    address_line1 = models.CharField("Address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("Address line 2", max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    vat_number = models.CharField("VAT / tax id", max_length=50, blank=True)
    email = models.EmailField("E-mail", blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.CharField(max_length=200, blank=True)
    logo = models.FileField(upload_to=organization_logo_path, blank=True, max_length=200)
    # ISO 4217; the demo business trades in the United Kingdom.
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="GBP")
    locale = models.CharField(max_length=10, choices=LOCALE_CHOICES, default="en-GB")

    class Meta:
        verbose_name = "organization"
        verbose_name_plural = "organizations"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:80]
        super().save(*args, **kwargs)

    @property
    def address_lines(self) -> list[str]:
        """The postal address as printed, one line each, empty parts left out."""
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        parts = (self.address_line1, self.address_line2, place, self.country)
        return [p for p in parts if p]


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.CHOICES, default=Role.OPS)
    # Single permission codes added to or removed from what the role grants.
    granted_permissions = models.JSONField(default=list, blank=True)
    revoked_permissions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "membership"
        verbose_name_plural = "memberships"
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="unique_membership")
        ]
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def permission_codes(self) -> frozenset[str]:
        cached = getattr(self, "_codes", None)
        if cached is None:
            cached = codes_for(self.role, self.granted_permissions, self.revoked_permissions)
            self._codes = cached
        return cached

    def has_perm(self, code: str) -> bool:
        return code in self.permission_codes

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Invitation(models.Model):
    """An e-mail invitation to join an organization with a role.

    The link mailed out carries a signed, expiring token naming this row (accounts/invitations.py);
    the row makes the invitation single-use and lets an admin see and withdraw pending ones.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField("E-mail")
    role = models.CharField(max_length=20, choices=Role.CHOICES, default=Role.OPS)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None
