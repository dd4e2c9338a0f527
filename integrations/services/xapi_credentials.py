"""The client credentials Udemy Business uses to send xAPI statements, and their status.

One django-oauth-toolkit `Application` per integration (confidential, client credentials
grant, RFC 6749 §4.4), linked by `XapiClient`. Its secret is hashed when saved: it is shown
once, in the answer that created it. Rotating or revoking deletes the application, which
deletes every token it issued: they stop working at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from integrations.core.audit import audit_record
from integrations.models import AuditEntry, Integration, XapiClient, XapiStatement

SCOPE = "xapi:write"


@dataclass(frozen=True)
class IssuedCredentials:
    client_id: str
    client_secret: str  # plain: this is the only time it exists outside the caller's hands


@dataclass(frozen=True)
class XapiStatus:
    enabled: bool
    client_id: str
    last_statement_at: datetime | None
    counts: dict[str, int]  # state -> statements


def xapi_credentials_issue(*, integration: Integration, actor: Any) -> IssuedCredentials:
    """New client credentials for `integration`; the previous ones (and their tokens) are
    revoked in the same transaction."""
    application_model = get_application_model()
    secret = generate_client_secret()
    with transaction.atomic():
        client, _ = XapiClient.objects.select_for_update().get_or_create(integration=integration)
        rotated = client.application_id is not None
        if rotated:
            application_model.objects.filter(pk=client.application_id).delete()
        application = application_model.objects.create(
            name=f"Udemy Business xAPI · {integration.group.slug}"[:255],
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
            skip_authorization=True,
        )
        client.application = application
        client.rotated_at = timezone.now() if rotated else None
        client.save(update_fields=["application", "rotated_at"])
        audit_record(AuditEntry, integration=integration, actor=actor,
                     action="xapi_rotate" if rotated else "xapi_issue",
                     detail="xAPI client credentials generated")  # fmt: skip
    return IssuedCredentials(client_id=application.client_id, client_secret=secret)


def xapi_credentials_revoke(*, integration: Integration, actor: Any) -> bool:
    """Revoke the integration's credentials and every token they issued; False if none."""
    with transaction.atomic():
        client = XapiClient.objects.select_for_update().filter(integration=integration).first()
        if client is None or client.application_id is None:
            return False
        get_application_model().objects.filter(pk=client.application_id).delete()
        audit_record(AuditEntry, integration=integration, actor=actor, action="xapi_revoke",
                     detail="xAPI client credentials revoked")  # fmt: skip
    return True


def xapi_status(*, integration: Integration) -> XapiStatus:
    client = (
        XapiClient.objects.select_related("application").filter(integration=integration).first()
    )
    rows = (
        XapiStatement.objects.filter(integration=integration)
        .order_by()
        .values("state")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(XapiStatement.State.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    application = client.application if client else None
    return XapiStatus(
        enabled=application is not None,
        client_id=application.client_id if application else "",
        last_statement_at=client.last_statement_at if client else None,
        counts=counts,
    )


def xapi_integration_for_application(*, application_id: int) -> int | None:
    """The integration whose credentials are this OAuth application, if any."""
    return (
        XapiClient.objects.filter(application_id=application_id)
        .values_list("integration_id", flat=True)
        .first()
    )
