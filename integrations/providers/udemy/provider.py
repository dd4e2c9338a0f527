"""Glue between an `Integration` row and the Udemy client and mapping: the functions, and
`UdemyProvider`, the `Provider` contract's Udemy Business implementation (which calls them, so a
test may replace one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from catalog.models import Course
from integrations.core.budget import shared_budget
from integrations.core.kinds import Capability
from integrations.core.netutil import setting
from integrations.models import Integration, UpstreamBudget

from ..base import Provider, Stream
from .client import (
    ALLOWED_HOSTS_SETTING,
    CredentialCheck,
    UdemyClient,
    UdemyCredentials,
    build_base_url,
)
from .errors import UdemyConfigError
from .forms import UdemyIntegrationForm
from .launch import launch_origins
from .launch import launch_url_allowed as _on_origins
from .mapping import (
    map_activity_row,
    map_course,
    map_learning_path,
    mapping_revision,
    raw_item_id,
)
from .scale import COMPLETION_RATIO


def credentials_for(integration: Integration, *, client_secret: str | None = None):
    return UdemyCredentials(
        client_id=integration.client_id,
        client_secret=integration.client_secret if client_secret is None else client_secret,
        organization_name=integration.organization_name,
        organization_id=integration.organization_id,
        api_base_url=integration.api_base_url,
    )


def make_client(integration: Integration, **options: Any) -> UdemyClient:
    """The integration's client; `options` go to `UdemyClient` (e.g. a test's `sleep`)."""
    client = UdemyClient(credentials_for(integration), **options)
    client.page_concurrency = integration.page_concurrency  # None: UDEMY_PAGE_CONCURRENCY
    # Udemy rate-limits per organization: its syncs on every worker share one budget.
    client.budget = shared_budget(
        budget_key(client.base_url, integration.organization_id),
        limit=int(setting("UDEMY_ORG_MAX_IN_FLIGHT", 8)),
        model=UpstreamBudget,
        redis_url=setting("REDIS_URL", ""),
    )
    return client


def budget_key(base_url: str, organization_id: str) -> str:
    """The organization's budget: its API server (host and port) and its id."""
    server = urlsplit(base_url).netloc.lower().rsplit("@", 1)[-1]
    return f"udemy:{server[:120]}:{str(organization_id).strip()}"


def check_credentials(integration: Integration) -> CredentialCheck:
    """One cheap authenticated call; a verdict with an admin-readable message, never a raise."""
    try:
        client = make_client(integration)
    except Exception as exc:
        return CredentialCheck(ok=False, verdict="not_allowed", message=str(exc))
    with client:
        return client.check_credentials()


def owner_language(integration: Integration) -> str:
    """360Learning rule: a course without locale takes the language of the connector's owner."""
    owner = integration.owner
    learner = getattr(owner, "learner", None) if owner else None
    return (learner.language if learner else "") or "en"


def site_url(client: UdemyClient) -> str:
    """The Udemy site of the API (scheme://host[:port]), for relative course URLs."""
    parts = urlsplit(client.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def origins_of(integration: Integration, base_url: str) -> tuple[str, ...]:
    """Where the integration's courses may send a learner (`launch.py`)."""
    return launch_origins(organization_name=integration.organization_name, base_url=base_url)


def launch_url_allowed(integration: Integration, url: str) -> bool:
    """START's check of a stored launch URL: on the organization's Udemy site (or the host of
    the allow-listed API override), as the mapping requires of every new item."""
    credentials = UdemyCredentials(
        client_id="",
        client_secret="",
        organization_name=integration.organization_name,
        organization_id=integration.organization_id,
        api_base_url=integration.api_base_url,
    )
    try:
        base_url = build_base_url(credentials, setting(ALLOWED_HOSTS_SETTING, ["*.udemy.com"]))
    except UdemyConfigError:  # no longer allowed: the organization's own site only
        base_url = ""
    return _on_origins(url, origins_of(integration, base_url))


class _Catalog(NamedTuple):
    """One catalog list of the content sync: the stream's name and kind, how its pages are read
    and how an item is mapped, with which options."""

    name: str
    kind: str
    read_pages: Callable[..., Iterator]
    mapper: Callable[..., object]
    options: dict[str, Any]


def content_streams(integration: Integration, client: UdemyClient) -> list[Stream]:
    # The options both lists are mapped with; courses also take the owner's language.
    shared = {
        "sync_tags": integration.sync_tags,
        "site_url": site_url(client),
        "launch_origins": origins_of(integration, client.base_url),
    }
    courses = {**shared, "default_lang": owner_language(integration)}
    catalogs = [
        _Catalog("courses", Course.Kind.COURSE, client.iter_course_pages, map_course, courses),
    ]
    if integration.sync_learning_paths:
        catalogs.append(
            _Catalog(
                "learning_paths",
                Course.Kind.LEARNING_PATH,
                client.iter_learning_path_pages,
                map_learning_path,
                shared,
            )
        )
    return [_catalog_stream(client, catalog) for catalog in catalogs]


def _catalog_stream(client: UdemyClient, catalog: _Catalog) -> Stream:
    """A catalog list's stream: its items mapped with the catalog's options, which are also part
    of its mapping revision (`mapping_revision`: a changed option maps every item again)."""
    read_pages = catalog.read_pages
    return Stream(
        name=catalog.name,
        kind=catalog.kind,
        pages=lambda start: read_pages(start_page=start),
        map_item=partial(catalog.mapper, **catalog.options),
        item_id=raw_item_id,
        revision=mapping_revision(kind=str(catalog.kind), **catalog.options),
        budget=client.budget_share,
    )


def stats_stream(client: UdemyClient, pages: Callable[[int], Iterator] | None = None) -> Stream:
    """Udemy's user-course-activity report, read from the API, or from `pages` (another source
    of the same rows, e.g. a learning platform's export of them)."""
    return Stream(
        name="user_course_activity",
        kind=Course.Kind.COURSE,
        pages=pages or (lambda start: client.iter_user_course_activity_pages(start_page=start)),
        page_range=None if pages else client.iter_user_course_activity_pages,
        map_item=map_activity_row,
        report=COMPLETION_RATIO,
        budget=None if pages else client.budget_share,
    )


class UdemyProvider(Provider):
    """Udemy Business: its catalog (courses, learning paths) and its user-course-activity
    report."""

    key = "udemy"
    label = "Udemy Business"
    capabilities = frozenset({Capability.CONTENT, Capability.STATISTICS})
    settings_form = UdemyIntegrationForm

    def make_client(self, integration: Integration) -> UdemyClient:
        return make_client(integration)

    def check_credentials(self, integration: Integration) -> CredentialCheck:
        return check_credentials(integration)

    def content_streams(self, integration: Integration, client: UdemyClient) -> list[Stream]:
        return content_streams(integration, client)

    def launch_url_allowed(self, integration: Integration, url: str) -> bool:
        return launch_url_allowed(integration, url)

    def stats_stream(
        self, client: UdemyClient, pages: Callable[[int], Iterator] | None = None
    ) -> Stream:
        return stats_stream(client, pages=pages)
