"""ACL users for tests, created exactly as a document writes them.

README "Redis permissions" holds the ``ACL SETUSER`` rules the store needs; tests
read them from there, so the documented rules are the tested ones.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

__all__ = ["acl_rules", "create_acl_user"]


def acl_rules(markdown: Path, section: str = "Redis permissions") -> dict[str, list[str]]:
    """The ``ACL SETUSER <user> ...`` lines of ``section``, as {user: rule words}.

    The Cluster additions, written as "On a Redis Cluster add `...`", come under
    the name ``"cluster"``.
    """
    text = markdown.read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rules = {}
    for line in re.findall(r"^ACL SETUSER .*$", body, flags=re.MULTILINE):
        words = line.split()[2:]
        rules[words[0]] = words[1:]
    cluster = re.search(r"On a Redis Cluster add `([^`]+)`", body)
    if cluster is not None:
        rules["cluster"] = cluster.group(1).split()
    return rules


def create_acl_user(
    admin: Any, rules: dict[str, list[str]], name: str, *extra: str, password: str | None = None
) -> tuple[str, str]:
    """(Re)create user ``name`` with its rule, ``extra`` rules after it, and a password.

    ``admin`` is a synchronous client of the server; returns (user, password).
    """
    password = password or uuid.uuid4().hex
    words = [f">{password}" if word.startswith(">") else word for word in rules[name]]
    admin.execute_command("ACL", "DELUSER", name)
    admin.execute_command("ACL", "SETUSER", name, *words, *extra)
    return name, password
