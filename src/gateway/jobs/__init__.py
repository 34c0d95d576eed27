"""Periodic background jobs (SPEC §8): every `gateway serve` process runs them, one run per interval acts.

Modules: `job` (what a job is: a name, an interval and its work), `models` (`job_runs`: when each job last
ran, for the whole database), `election` (one run per database per interval: a PostgreSQL advisory lock
and a guarded claim of the job's row), `runner` (the loop the app's lifespan starts and stops), `purge`
(the expired-rows purge), `checkpoints` (the daily signed log heads), `retention` (`gateway.erasure` on a
schedule), `schedule` (the one list of jobs the gateway runs).

Only the app (its lifespan), the CLI and the schema list (`gateway.models`) import this package; it may
import any service below it.
"""
