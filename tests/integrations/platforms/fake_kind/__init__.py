"""A learning-platform kind that exists only in the tests: it proves a new kind needs one folder
and one registry line, and gets runs, errors, the lease and the audit from the connector core."""
