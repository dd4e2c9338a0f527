"""REST API v1 views: thin, read through selectors, write through services."""
