"""Platform connectors: the learning platforms LMS Bridge talks to (LearnUpon, Coursebase).

Per kind, one folder with `client` (HTTP only), `mapping` (pure), `connector` (glue between a
`PlatformConnection` row, the client and the engines) and `sandbox` (a loopback fake). The
engines shared by every kind live beside them: `directory` (import the group tree and users),
`push` (the ledger-driven catalog and completion push) and `runs` (run bookkeeping, leases).
`registry.PLATFORMS` lists the kinds; see docs/platforms.md.
"""
