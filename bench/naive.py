"""The naive baseline: the same first content sync, written per item with `update_or_create`.

Benchmark-only code (never imported by the product): it shows what the bulk, page-at-a-time design
of `integrations/services/catalog_upsert.py` buys. Same client, same mapping, same toggles; no
run bookkeeping, no checkpoints, no prefetch thread, no archival: it is the *least* a per-item
implementation would do, so the ratio it shows is a lower bound.
"""

from __future__ import annotations

from catalog.models import Course, Tag
from integrations.core.records import MappingError
from integrations.providers.udemy import provider

FIELDS = (
    "title",
    "name",
    "description",
    "image",
    "duration_minutes",
    "authors",
    "lang",
    "video_url",
    "launch_url",
    "modified_at",
)


def naive_content_sync(integration) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "failed": 0, "requests": 0}
    with provider.make_client(integration) as client:
        for stream in provider.content_streams(integration, client):
            for page in stream.pages(1):
                for raw in page.results:
                    try:
                        record = stream.map_item(raw)
                    except MappingError:
                        counts["failed"] += 1
                        continue
                    defaults = {
                        name: list(value) if isinstance(value, tuple) else value
                        for name in FIELDS
                        for value in [getattr(record, name)]
                    }
                    defaults["group_id"] = integration.group_id
                    defaults["fingerprint"] = record.fingerprint
                    defaults["status"] = Course.Status.ACTIVE
                    course, created = Course.objects.update_or_create(
                        integration=integration,
                        kind=stream.kind,
                        external_id=record.external_id,
                        defaults=defaults,
                    )
                    counts["created" if created else "updated"] += 1
                    for name in record.tag_names:
                        tag, _ = Tag.objects.get_or_create(name=name)
                        course.tags.add(tag)
        counts["requests"] = client.request_count
    return counts
