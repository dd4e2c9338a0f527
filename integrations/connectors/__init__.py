"""The registry of connector classes, above `integrations.providers` and `integrations.platforms`
(and below the services): every dependency on a connector is a real import import-linter sees.

`providers` lists the providers and holds the hook where other connectors offer a provider's
statistics; `platforms` lists the learning platforms and registers those that are such a
source. The Udemy side imports `connectors.providers` only, never `connectors.platforms`.
"""
