"""The ``openai-agents-session`` command: ``sessions`` and ``doctor`` (operators), ``demo``
(newcomers).

Exit codes: 0 done; 1 the operator declined (``rm`` without confirmation); 2 nothing
was done because of the input or the server (the message says which and what to do);
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
from collections.abc import Sequence

from redis.exceptions import RedisClusterException, RedisError

from ._errors import EXIT_ERROR, CliError, describe_redis_error, operator_line
from .doctor import add_doctor_parser
from .sessions import add_sessions_parser

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openai-agents-session",
        description="Inspect the Redis session store of the OpenAI Agents SDK, or see it run.",
    )
    commands = parser.add_subparsers(dest="command_name", required=True, metavar="COMMAND")
    add_sessions_parser(commands)
    add_doctor_parser(commands)
    from .demo import add_demo_parser

    add_demo_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help and usage errors
        return int(exit_.code or 0)
    url = getattr(args, "redis_url", None)
    try:
        outcome = args.command(args)
        if inspect.iscoroutine(outcome):
            outcome = asyncio.run(outcome)
        return int(outcome)
    except CliError as exc:
        return _fail(str(exc), url)
    except (RedisError, RedisClusterException) as exc:
        # Already masked and escaped: its hints show URL shapes that must stay readable.
        print(f"error: {describe_redis_error(exc, url or '(demo)')}", file=sys.stderr)
        return EXIT_ERROR
    except ValueError as exc:  # e.g. an unsupported URL scheme, named by the message
        return _fail(str(exc), url)
    except TypeError as exc:
        # redis-py passes unknown ?name=value URL options on as keyword arguments and
        # fails at the first connection; anything else is a bug and keeps its traceback.
        if url is None or "unexpected keyword argument" not in str(exc):
            raise
        return _fail(
            f"--redis-url {url} has an option the Redis client does not know ({exc}); "
            "redis-py's from_url documents the names it accepts",
            url,
        )
    except BrokenPipeError:  # `... | head`: the reader has all it wanted
        sys.stderr.close()
        return 0
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), url)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _fail(message: str, url: str | None) -> int:
    """Print ``message``, which may quote the URL or foreign text: masked and escaped."""
    print(f"error: {operator_line(message, url)}", file=sys.stderr)
    return EXIT_ERROR
