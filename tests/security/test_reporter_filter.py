"""Promise: no credential in an error report — broker and database URLs included."""

from django.test import RequestFactory
from django.views.debug import get_default_exception_reporter_filter


def test_error_reports_hide_urls_that_may_carry_passwords(settings):
    settings.CELERY_BROKER_URL = "redis://:broker-pw@redis:6379/0"
    settings.REDIS_URL = "redis://:broker-pw@redis:6379/0"
    reporter = get_default_exception_reporter_filter()
    shown = reporter.get_safe_settings()
    assert "broker-pw" not in repr(shown)
    assert "broker-pw" not in repr(reporter.get_post_parameters(RequestFactory().get("/")))
