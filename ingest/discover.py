"""Find the article files under a folder, reading only what it was pointed at.

A symbolic link (to a file or a folder) that resolves outside the ingested folder is not followed unless
`follow_symlinks` is set; a link to a folder inside it is not followed either (its files are read where they
are, once). Every entry passed over for a reason (links not followed, broken links, folders that cannot be
listed, FIFOs and devices) is reported with the reason; hidden entries and `exclude` patterns are left out
quietly, as asked. The walk keeps its own stack, so a deep tree cannot exhaust recursion, and with
`follow_symlinks` a link back to a folder already read is reported instead of looping.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ingest.loaders import LOADERS

NOT_FOLLOWED = "not followed (set follow_symlinks, or `assistant ingest --follow-symlinks`, to read it)"


@dataclass
class Discovery:
    """What a walk found: files to load, files of other types, and entries passed over with the reason."""

    files: list[Path] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)
    not_read: list[tuple[Path, str]] = field(default_factory=list)
    links: set[Path] = field(default_factory=set)  # files reached through a symbolic link (allowed to be one when read)
    # folders that could not be listed, entries that could not be read: what was stored from them is kept on sync
    unreadable: list[Path] = field(default_factory=list)


def discover(root: Path, exclude: tuple[str, ...] = (), follow_symlinks: bool = False) -> Discovery:
    """The article files under `root` (already resolved), sorted, and what was passed over and why."""
    found = Discovery()
    if root.is_file():
        (found.files if root.suffix.lower() in LOADERS else found.unsupported).append(root)
        return found
    if not root.is_dir():
        found.not_read.append((root, "not a regular file or folder"))
        return found
    _Walk(root, exclude, follow_symlinks, found).run()
    found.files.sort()
    found.unsupported.sort()
    found.not_read.sort()
    return found


class _Walk:
    """One walk of a folder tree: real folders first, folders reached through links (when followed) after."""

    def __init__(self, root: Path, exclude: tuple[str, ...], follow_symlinks: bool, found: Discovery) -> None:
        self.root = root
        self.root_text = str(root)
        self.exclude = exclude
        self.follow = follow_symlinks
        self.found = found
        self.folders: list[Path] = [root]
        self.linked_folders: list[Path] = []
        self.seen: set[tuple[int, int]] = set()

    def run(self) -> None:
        while self.folders or self.linked_folders:
            folder = self.folders.pop() if self.folders else self.linked_folders.pop()
            if self._first_visit(folder):
                self._list(folder)

    def _first_visit(self, folder: Path) -> bool:
        try:
            info = folder.stat()
        except OSError as exc:
            self._pass_over(folder, f"cannot read this folder: {_reason(exc)}", unreadable=True)
            return False
        key = (info.st_dev, info.st_ino)
        if key in self.seen:
            self._pass_over(folder, "symbolic link to a folder already read (a link loop?); not read twice")
            return False
        self.seen.add(key)
        return True

    def _list(self, folder: Path) -> None:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            self._pass_over(
                folder, f"cannot list this folder: {_reason(exc)}; its files were not read", unreadable=True
            )
            return
        for entry in entries:
            if not entry.name.startswith("."):
                self._entry(entry)

    def _entry(self, entry: os.DirEntry) -> None:
        path = Path(entry.path)
        try:
            if entry.is_symlink():
                self._link(path)
            elif entry.is_dir(follow_symlinks=False):
                self.folders.append(path)
            elif not self._excluded(path):
                self._file(path, entry.stat(follow_symlinks=False).st_mode)
        except OSError as exc:
            self._pass_over(path, f"cannot read: {_reason(exc)}", unreadable=True)

    def _link(self, path: Path) -> None:
        target = os.path.realpath(path)
        try:
            info = os.stat(target)
        except OSError:
            self._pass_over(path, "broken symbolic link (its target does not exist or cannot be read)")
            return
        inside = target == self.root_text or target.startswith(self.root_text.rstrip(os.sep) + os.sep)
        kind = "folder" if stat.S_ISDIR(info.st_mode) else "file"
        if not inside and not self.follow:
            self._pass_over(path, f"symbolic link to a {kind} outside the ingested folder; {NOT_FOLLOWED}")
        elif kind == "folder" and not self.follow:
            self._pass_over(
                path, "symbolic link to a folder inside the ingested folder: its files are read where they are"
            )
        elif kind == "folder":
            self.linked_folders.append(path)
        elif not self._excluded(path):
            self.found.links.add(path)
            self._file(path, info.st_mode)

    def _file(self, path: Path, mode: int) -> None:
        if not stat.S_ISREG(mode):
            self._pass_over(path, "not a regular file (a FIFO, socket or device); not read")
        elif path.suffix.lower() in LOADERS:
            self.found.files.append(path)
        else:
            self.found.unsupported.append(path)

    def _excluded(self, path: Path) -> bool:
        name = path.name
        return any(
            fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(name.lower(), pattern.lower()) for pattern in self.exclude
        )

    def _pass_over(self, path: Path, reason: str, unreadable: bool = False) -> None:
        self.found.not_read.append((path, reason))
        if unreadable:
            self.found.unreadable.append(path)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
