"""Error reports (e-mails to ADMINS, debug pages) hide URLs that may carry credentials."""

import re

from django.views.debug import SafeExceptionReporterFilter


class CredentialSafeReporterFilter(SafeExceptionReporterFilter):
    # Django hides *KEY*, *SECRET*, *PASS*, *TOKEN*…; broker, result and database URLs may embed
    # a password too (redis://:pw@host, postgres://user:pw@host).
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|BROKER|BACKEND|DATABASES",
        flags=re.IGNORECASE,
    )
