"""Foundation: settings profiles, health, schedules, platform model, deployment files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import IntegrityError
from django.urls import reverse

from catalog.models import Group, Learner
from tests.factories import DEFAULT_PASSWORD, GroupFactory, UserFactory, group_admin

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="lmsbridge.settings",
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        ALLOWED_HOSTS="lms.example.com",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets():
    env = production_env()
    del env["FIELD_ENCRYPTION_KEYS"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.django_db
def test_health_reports_database_and_broker(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_health_answers_503_when_the_broker_is_down(client, settings):
    from lmsbridge.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get(reverse("health"))
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "down"


@pytest.mark.django_db
def test_daily_schedules_exist_in_central_european_time():
    from django_celery_beat.models import PeriodicTask

    tasks = {t.name: t for t in PeriodicTask.objects.select_related("crontab")}
    content = tasks["Udemy content sync (daily)"]
    stats = tasks["Udemy statistics sync (daily)"]
    evening = tasks["Udemy statistics sync (evening)"]
    assert content.task == "integrations.tasks.sync_all_content"
    assert stats.task == evening.task == "integrations.tasks.sync_all_stats"
    for task, at in ((content, ("7", "30")), (stats, ("7", "45")), (evening, ("19", "45"))):
        crontab = task.crontab
        assert (crontab.hour, crontab.minute, str(crontab.timezone)) == (*at, "Europe/Paris")
        assert task.enabled


def test_celery_defaults_fit_long_syncs():
    from lmsbridge.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > app.conf.task_time_limit
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_broker_follows_the_environment():
    if os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL"):
        assert settings.CELERY_BROKER_URL.startswith(("redis://", "amqp://"))
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"


@pytest.mark.django_db
def test_one_platform_group_exists():
    platform = Group.objects.get(is_platform=True)
    assert platform.parent is None
    with pytest.raises(IntegrityError):
        Group.objects.create(name="Another root", slug="root-2", is_platform=True)


@pytest.mark.django_db
def test_learner_email_is_unique_case_insensitively():
    Learner.objects.create(email="Jane.Doe@example.com")
    with pytest.raises(IntegrityError):
        Learner.objects.create(email="jane.doe@EXAMPLE.com")


@pytest.mark.django_db
def test_login_then_group_admin_lands_on_the_group_settings(client):
    group = GroupFactory(name="Sales")
    user = group_admin(group)
    response = client.post(
        reverse("login"), {"username": user.username, "password": DEFAULT_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("integrations:settings", args=[group.slug])
    assert b"Udemy Business" in response.content


@pytest.mark.django_db
def test_static_assets_come_from_packages_not_a_cdn(client):
    user = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(user)
    html = client.get(reverse("home"), follow=True).content.decode()
    assert "bootstrap/css/bootstrap.min.css" in html
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)[^\"']+\.(?:css|js)", html)


def test_docker_compose_describes_the_production_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"web", "worker", "beat", "postgres", "redis"}
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    for name in ("web", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        svc = services[name]
        assert svc["env_file"] == [".env"] or svc["env_file"] == ".env"
        env = svc["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert set(svc["depends_on"]) >= {"postgres", "redis"}
    # gunicorn on the host's loopback only: its reverse proxy is the way in (docs/operations.md).
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    beat = services["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1  # one beat, or daily runs double
    # Metrics: web and worker write into one directory the scrape reads, emptied with the stack.
    metrics_dir = services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    for name in ("web", "worker"):
        assert services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"] == metrics_dir
        assert f"metrics:{metrics_dir}" in services[name]["volumes"], name
    assert compose["volumes"]["metrics"]["driver_opts"]["type"] == "tmpfs"
    # Flower: optional (a profile), on the host's loopback, credentials from .env only.
    flower = services["flower"]
    assert flower["profiles"] == ["flower"]
    assert flower["env_file"] == [".env"]
    assert flower["environment"]["REDIS_URL"].startswith("redis://redis:6379")
    assert "FLOWER_BASIC_AUTH" not in flower["environment"]  # no value in the file
    command = " ".join(flower["command"])
    # The launcher of `make flower`: no start without credentials, /metrics behind them too.
    assert command == "python scripts/flower.py"
    assert flower["environment"]["FLOWER_PORT"] == "5555"
    assert "--basic-auth" not in command and "basic_auth" not in command
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])
    assert flower["build"]["args"]["PIP_EXTRAS"] == "[flower]"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("flower") for d in extras["optional-dependencies"]["flower"])
    assert not any(d.startswith("flower") for d in extras["dependencies"])
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^FLOWER_BASIC_AUTH=$", example, re.MULTILINE)  # no default password


@pytest.mark.parametrize(
    ("credentials", "starts"),
    [(None, False), ("", False), ("admin", False), ("admin:", False), ("ops:s3cret", True)],
)
def test_the_flower_service_refuses_to_start_without_credentials(credentials, starts):
    """The service's own command (the launcher `scripts/flower.py`, which also puts Flower's
    /metrics behind the same auth): Flower starts only with FLOWER_BASIC_AUTH=user:password in
    the environment (.env). The refusals run the command itself; the accepted value is checked
    by the launcher's own rule (starting Flower for real is `operations/test_flower.py`'s)."""
    import importlib.util

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["flower"]["command"]
    assert command == ["python", "scripts/flower.py"]
    if starts:
        spec = importlib.util.spec_from_file_location("flower_launcher", ROOT / command[1])
        launcher = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(launcher)
        assert launcher.credentials_problem(credentials) == ""
        return
    env = {"PATH": "/usr/bin:/bin", "DJANGO_ENV": "test"}
    if credentials is not None:
        env["FLOWER_BASIC_AUTH"] = credentials
    result = subprocess.run(
        [sys.executable, command[1]], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr


def _settings_variables() -> set[str]:
    source = "".join(path.read_text() for path in (ROOT / "lmsbridge" / "settings").glob("*.py"))
    variables = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    assert {"DJANGO_ENV", "SECRET_KEY", "UDEMY_MAX_PAGE_MB", "LOG_FORMAT"} <= variables
    return variables


def test_env_example_lists_every_variable_the_settings_read():
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    missing = _settings_variables() - documented
    assert not missing, f".env.example lacks {sorted(missing)}"


def _configuration_rows() -> dict[str, list[str]]:
    """The rows of docs/configuration.md's tables: variable → its other cells."""
    page = (ROOT / "docs" / "configuration.md").read_text()
    rows = {}
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and (name := re.fullmatch(r"`([A-Z][A-Z0-9_]+)`", cells[0])):
            rows[name.group(1)] = cells[1:]
    return rows


def test_configuration_page_documents_every_variable():
    """Every variable the settings read has a row of docs/configuration.md, with its default
    and its meaning: a setting added without them fails here."""
    rows = _configuration_rows()
    missing = _settings_variables() - rows.keys()
    assert not missing, f"docs/configuration.md lacks {sorted(missing)}"
    blank = sorted(name for name in _settings_variables() if not all(rows[name][:2]))
    assert not blank, f"docs/configuration.md: no default or meaning for {blank}"
