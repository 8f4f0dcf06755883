"""Writes the committed Grafana dashboard JSON from the dashboards-as-code sources.

Usage::

    python dashboards/build.py           # rewrite dashboards/*.json
    python dashboards/build.py --check   # exit 1 if the committed JSON is stale

Needs the Grafana 11.6 build of grafana-foundation-sdk (``1769699379!11.6.0``): the
default build targets Grafana 10.1 and writes panels Grafana 11 cannot read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The export paths' series names, shared with the recording rules.
sys.path.insert(0, str(HERE.parent / "deploy" / "prometheus"))

import session_dashboard  # noqa: E402
from metric_paths import PATHS  # noqa: E402

SCHEMA_VERSION = 41


def render_dashboards() -> dict[str, str]:
    """Dashboard JSON documents keyed by file name: one per export path."""
    documents = {}
    for path in PATHS.values():
        built = session_dashboard.build_dashboard(path).build()
        text = json.dumps(built, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
        schema = json.loads(text)["schemaVersion"]
        if schema != SCHEMA_VERSION:
            raise RuntimeError(
                f"grafana-foundation-sdk wrote schemaVersion {schema}, expected "
                f"{SCHEMA_VERSION}; install grafana-foundation-sdk==1769699379!11.6.0"
            )
        documents[f"{session_dashboard.uid(path)}.json"] = text
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Grafana dashboards.")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render_dashboards().items():
        target = HERE / name
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(target)
        else:
            target.write_text(text)
            print(f"wrote {target}")
    for target in stale:
        print(f"stale: {target} (run `python dashboards/build.py`)")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
