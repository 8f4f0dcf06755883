"""gunicorn settings for the example app: uvicorn workers, one /metrics for them all.

prometheus_client's multiprocess mode needs ``PROMETHEUS_MULTIPROC_DIR`` set to an
empty directory before the workers start; each worker writes its metrics there and
``/metrics`` adds them up. A worker that exits is marked dead so that its live
gauges go (counters and histograms keep their totals either way).

With ``OTEL_METRICS_EXPORTER=otlp`` the session metrics go over OTLP instead: each
worker exports its own (its own ``service.instance.id``) and, when gunicorn stops or
replaces it, exports once more from the app's lifespan shutdown, within
``graceful_timeout``; nothing of theirs goes through ``PROMETHEUS_MULTIPROC_DIR``.

In the container the root filesystem is read-only and only ``/tmp`` is writable (a
memory-backed volume): gunicorn's worker heartbeat files go to Python's temporary
directory, and the image puts ``PROMETHEUS_MULTIPROC_DIR`` under it.
"""

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WORKERS", "4"))
worker_class = "uvicorn.workers.UvicornWorker"
graceful_timeout = 10
# gunicornc's control socket would go under $HOME, read-only (or missing) in the
# container, and an error would be logged at every start; the example does not use it.
control_socket_disable = True


def on_starting(server: object) -> None:
    """Start from an empty metrics directory: files of an earlier run would add up too."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        raise RuntimeError("set PROMETHEUS_MULTIPROC_DIR to an empty directory for the workers")
    # Emptied, not removed: it may be a volume's mount point, which cannot be removed.
    os.makedirs(directory, exist_ok=True)
    for entry in Path(directory).iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def child_exit(server: object, worker: object) -> None:
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
