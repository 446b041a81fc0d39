"""Makes ``django.contrib.admin.site`` Ferry's organization-scoped admin site.

Replacing the default site (rather than mounting a second one) means every ``@admin.register``
in any app, including ones added later, lands on the scoped site: nothing can be published
unscoped by forgetting a ``site=`` argument. This module must not import models: it is loaded
while the app registry is still being populated.
"""

from django.contrib.admin.apps import AdminConfig


class FerryAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.FerryAdminSite"
