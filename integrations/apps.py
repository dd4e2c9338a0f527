from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from integrations.core.events import run_completed
        from integrations.models import SyncRun
        from integrations.services.platforms import push_after_sync_receiver

        from .schedules import ensure_default_schedules

        post_migrate.connect(ensure_default_schedules, sender=self)
        # What follows a Udemy sync subscribes to it: the sync never imports the platforms.
        run_completed.connect(
            push_after_sync_receiver, sender=SyncRun, dispatch_uid="platform_push_after_sync"
        )
