"""Loopback fakes of the upstream APIs, for the demo, the tests and the benchmarks.

`base` (the server every sandbox is: request log, faults, latency, rate limit, control API),
`faults` (what a sandbox can be told to get wrong), `loopback` (the threaded HTTP server under
it), and one package per kind with the same shape: `udemy`, `learnupon`, `coursebase`, each with
`server` (the sandbox class: routes and replies), `data` (the seed data it serves) and the
kind's own modules. Product code never imports this package (an import-linter contract); the
management command `sandbox`, the demo seeding, the tests and the benchmarks do. A sandbox
imitates its API from the vendor's documentation, not from the client's code: it imports only
the client's credentials type, to hand a test the credentials that reach it.
"""
