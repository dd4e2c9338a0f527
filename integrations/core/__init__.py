"""The connector core: machinery every connector uses, written once.

Run lifecycle, run errors, leases and the audit trail (`models`, `runs`, `lease`, `audit`); the
JSON HTTP client with its retry budget, `Retry-After` handling, backoff and host allow-list
(`http`, `hosts`, `netutil`). Nothing here knows a provider or a platform: they build on it
(the loopback fakes of their APIs are in `integrations.sandboxes`).
"""
