"""A worker process for the crash test: ``python -m tests.jobs.worker_process ENQUEUE_LEASE_S RUN_LEASE_S``.

The same ``JobWorker`` as ``tfe worker`` (settings from the ``TFE_*`` environment), with short leases so a
test sees a killed worker's source taken over within seconds. Prints ``ready`` once started.
"""

from __future__ import annotations

import sys
import threading

import tfe.core.models  # noqa: F401  # the tables veille's foreign keys point to (the CLI imports them too)
from tfe.app.jobs import Jobs, JobWorker
from tfe.app.runtime import Runtime
from tfe.core.settings import load_settings


def main() -> None:
    enqueue_lease_s, run_lease_s = float(sys.argv[1]), float(sys.argv[2])
    rt = Runtime(load_settings())
    jobs = Jobs(rt, enqueue_lease_s=enqueue_lease_s, run_lease_s=run_lease_s)
    JobWorker(jobs, threads=2, tick_s=rt.settings.poll_tick_s).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
