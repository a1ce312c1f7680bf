"""What may name a collection: the one rule, shared by Settings (the `collection` setting), the store's collections
(assistant/storage/collections.py) and the page's create and rename boxes."""

from __future__ import annotations

import re
from typing import Any

from assistant.core.errors import InputError

SOURCES_SUFFIX = "__sources"
MIN_NAME, MAX_NAME = 3, 54  # NAME__sources must fit the 63 characters older Chroma servers allow
NAME_RULE = (f"{MIN_NAME} to {MAX_NAME} characters: letters, digits, '.', '_' and '-', starting and ending with a "
             "letter or digit, no '..', not an IP address, not ending in '__sources'")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")


def name_problem(name: Any) -> str | None:
    """Why `name` cannot name a collection, in one line; None when it can."""
    if not isinstance(name, str) or not name.strip():
        return f"A collection needs a name: {NAME_RULE}."
    ok = (MIN_NAME <= len(name) <= MAX_NAME and _NAME.match(name) and ".." not in name and not _IPV4.match(name)
          and not name.endswith(SOURCES_SUFFIX))
    return None if ok else f"{name[:80]!r} cannot name a collection; a name is {NAME_RULE}."


def check_name(name: Any, error: type[Exception] = InputError) -> str:
    """`name` when it can name a collection, else `error` saying what a name may be."""
    problem = name_problem(name)
    if problem:
        raise error(problem)
    return name
