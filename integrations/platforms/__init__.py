"""Platform connectors: the learning platforms LMS Bridge talks to (LearnUpon, Coursebase).

Per kind, one folder with `client` (HTTP only, on `integrations.core.http`), `mapping` (pure),
`connector` (the kind's `base.PlatformConnector`: glue between a `PlatformConnection` row, the
client and the engines); its loopback fake is in `integrations.sandboxes`. The
engines shared by every kind live beside them: `directory` (import the group tree and users),
`ledger` (the ledger-driven push), `connector_common` (what connectors with a client share) and
`runs` (per-stream details). `integrations.connectors.platforms.PLATFORMS` lists the kinds, and
`integrations.services.platform_execute` runs them; see docs/platforms.md.
"""
