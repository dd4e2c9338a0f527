from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .schedules import ensure_default_schedules

        post_migrate.connect(ensure_default_schedules, sender=self)
