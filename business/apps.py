from django.apps import AppConfig


class BusinessConfig(AppConfig):
    name = "business"
    verbose_name = "Business records"

    def ready(self) -> None:
        # Connects the login/logout audit receivers.
        # The members page's per-model permission rows and its audit events.
        from business import (
            members,  # noqa: F401
            signals,  # noqa: F401
        )
