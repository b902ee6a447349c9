"""NEVIS-like streams (*NEVIS'22*): long chronological streams of heterogeneous tasks, scored
by error rate and compute together. `stream` (the suite format), `generators` and `tasks`
(the data), `pack` (a stream's worker files), `search` and `checkpoint` (worker side),
`worker`, `execute` and `evaluation` (running), metrics in `harness.metrics.nevis`."""
