"""Read side of the connector: integrations, runs and errors of a group, its learning-platform
connection, the health of an integration, the groups of the home page.

Every function takes the group (already checked by `group_get_administered`) and filters by it,
so a run or an integration of another group is simply not found (404, never 403).
"""
