"""Every Python block of the README runs, against a real server, so the docs cannot rot.

Each block runs in its own interpreter: the examples set process-wide state (the
global tracer provider, structlog's configuration) the way an app would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from openai_agents_session.testing import ServerProcess

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)

RUNNER = """
import ast, asyncio, sys
source = sys.stdin.read()
code = compile(source, "README.md block", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if result is not None:
    asyncio.run(result)
"""


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, valkey_server: ServerProcess) -> None:
    source = BLOCKS[index].replace("redis://localhost:6379/0", valkey_server.url)
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"block {index} failed:\n{source}\n{done.stderr[-3000:]}"
