from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from catalog.panels import register_course_panels
        from integrations.connectors import platforms as platform_connectors
        from integrations.connectors import providers
        from integrations.core.events import owner_status_changed, run_completed, run_ended
        from integrations.models import Integration, PlatformRun, SyncRun
        from integrations.services.alerts import (
            alerts_owner_status_receiver,
            alerts_run_ended_receiver,
        )
        from integrations.services.platforms import push_after_sync_receiver
        from integrations.web.panels import platform_course_panels

        from .schedules import ensure_default_schedules

        post_migrate.connect(ensure_default_schedules, sender=self)
        # An integration's own daily beat entries are deleted with it.
        from django.db.models.signals import pre_delete

        from integrations.services.sync_times import sync_times_forget

        pre_delete.connect(sync_times_forget, sender=Integration, dispatch_uid="sync_times")
        # The connectors' hooks: the models' launch URL checks, the platforms that export a
        # provider's statistics (neither the models nor the Udemy side import them).
        providers.hooks_connect()
        platform_connectors.hooks_connect()
        # The course dashboard shows what a learning platform reports of a matched course.
        register_course_panels(platform_course_panels)
        # What follows a Udemy sync subscribes to it: the sync never imports the platforms.
        run_completed.connect(
            push_after_sync_receiver, sender=SyncRun, dispatch_uid="platform_push_after_sync"
        )
        # Alerts by e-mail: the receivers only record the change and queue the sending.
        run_ended.connect(alerts_run_ended_receiver, sender=SyncRun, dispatch_uid="alerts_run")
        run_ended.connect(
            alerts_run_ended_receiver, sender=PlatformRun, dispatch_uid="alerts_platform_run"
        )
        owner_status_changed.connect(
            alerts_owner_status_receiver, sender=Integration, dispatch_uid="alerts_status"
        )
        # Statements waiting for a learner or a course are tried again when a run may have
        # brought them (a content sync, a directory import).
        from integrations.tasks.xapi import xapi_after_run_receiver

        run_ended.connect(xapi_after_run_receiver, sender=SyncRun, dispatch_uid="xapi_sync")
        run_ended.connect(xapi_after_run_receiver, sender=PlatformRun, dispatch_uid="xapi_platform")
