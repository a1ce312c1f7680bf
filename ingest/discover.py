"""Find the article files under a folder."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from ingest.loaders import LOADERS


def discover(root: Path, exclude: tuple[str, ...] = ()) -> tuple[list[Path], list[Path]]:
    """(article files, files skipped for their type) under `root`, sorted; hidden files and `exclude` patterns left out."""
    if root.is_file():
        return ([root], []) if root.suffix.lower() in LOADERS else ([], [root])
    articles, unsupported = [], []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if any(fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(path.name.lower(), pattern.lower()) for pattern in exclude):
            continue
        (articles if path.suffix.lower() in LOADERS else unsupported).append(path)
    return articles, unsupported
