from django.apps import AppConfig


class SyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sync"
    verbose_name = "Inventory sync"

    def ready(self) -> None:
        from sync.services import sync_links_owned
        from wizard.engine.undo import undo_owner_register

        # A sync import's undo takes its links along (dependency direction: wizard ← sync).
        undo_owner_register(sync_links_owned)
