"""Platform connectors: the learning platforms LMS Bridge talks to (LearnUpon, Coursebase).

Per kind, one folder with `client` (HTTP only, on `integrations.core.http`), `mapping` (pure),
`connector` (glue between a `PlatformConnection` row, the client and the engines) and `sandbox`
(a loopback fake on `integrations.core.sandbox`). The engines shared by every kind live beside
them: `execute` (a run through the core executor), `directory` (import the group tree and
users), `ledger` (the ledger-driven push), `connector_common` (what connectors share) and `runs`
(per-stream details). `integrations.core.registry.PLATFORMS` lists the kinds; see
docs/platforms.md.
"""
