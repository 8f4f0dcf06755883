"""Throwaway servers and round-trip counting: the test suite's helpers (``tests/support``).

They are not part of the installed package; the benchmarks take them from the
repository they run in.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.append(_TESTS)

from support import RoundTripCounter, ServerProcess, counting_pool  # noqa: E402

__all__ = ["RoundTripCounter", "ServerProcess", "counting_pool"]
