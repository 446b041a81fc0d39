from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.text import slugify

from accounts.permissions import Role, codes_for


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:80]
        super().save(*args, **kwargs)


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
