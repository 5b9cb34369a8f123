"""The store: every SQL statement a job goes through, in `queries.sql`, and the only code that runs them.

One module per thing stored, in the order of a job's life: `jobs` (submit, read), `claims`
(dispatch), `outcomes` (record), `steering` (retry, cancel, dead letters), then `workers`,
`queues`, `metrics` and `dispatchers`. Functions that write take the caller's connection, so the
service that calls them owns the transaction (and with it the queue operation); reads take the pool.
They return the frozen records of `models`.
"""
