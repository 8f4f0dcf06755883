"""gunicorn settings for the example app: uvicorn workers, one /metrics for them all.

prometheus_client's multiprocess mode needs ``PROMETHEUS_MULTIPROC_DIR`` set to an
empty directory before the workers start; each worker writes its metrics there and
``/metrics`` adds them up. A worker that exits is marked dead so that its live
gauges go (counters and histograms keep their totals either way).
"""

import os
import shutil

from prometheus_client import multiprocess

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WORKERS", "4"))
worker_class = "uvicorn.workers.UvicornWorker"
graceful_timeout = 10


def on_starting(server: object) -> None:
    """Start from an empty metrics directory: files of an earlier run would add up too."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        raise RuntimeError("set PROMETHEUS_MULTIPROC_DIR to an empty directory for the workers")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)


def child_exit(server: object, worker: object) -> None:
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
