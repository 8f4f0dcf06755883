"""The fault suite as a longer soak: every count multiplied, Sentinel's own timings.

``make soak`` runs ``python tests/reliability/soak.py 10``: ten times the
batches, kills, cancellations and fuzz inputs of the regular run, and failovers
with Sentinel's default (10 s) demotion window. Extra arguments go to pytest.
The results table is written to ``reliability-soak.md`` unless
``OAS_RELIABILITY_REPORT`` names another file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    scale = argv[0] if argv else "10"
    if not scale.isdigit() or int(scale) < 1:
        raise SystemExit(f"scale must be a positive integer, got {scale!r}")
    env = dict(os.environ)
    env["OAS_RELIABILITY_SCALE"] = scale
    env.setdefault("OAS_RELIABILITY_REPORT", "reliability-soak.md")
    suite = Path(__file__).resolve().parent
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)]
    return subprocess.call([*command, *argv[1:]], env=env, cwd=suite.parents[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
