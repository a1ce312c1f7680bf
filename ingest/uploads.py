"""Files uploaded through the page, ingested like a folder: article files as they are, and .zip archives (a folder
zipped) unpacked safely, all staged in a temporary folder that is removed afterwards.

    summary = ingest_uploads(assistant, ["/tmp/gradio/…/a.txt", "/tmp/gradio/…/news.zip"], progress=callback)

An archive is read entry by entry and nothing in it is trusted: an absolute path, a `..` step, a link, a device
or an encrypted entry is rejected, as are entries over max_file_bytes (counted while unpacking, not taken from
the archive's own claim), more than MAX_ZIP_ENTRIES entries, or more than MAX_ZIP_BYTES unpacked in all (a zip
bomb). Each rejected file is reported with the reason, in the summary's `not_read`; everything else is ingested.

Sources are named `uploads/NAME` (`uploads/FOLDER/NAME` for a zipped folder), so uploading a changed file again
updates the article it holds, and the same file again is reported unchanged.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Sequence

from ingest.loaders import LOADERS
from ingest.summary import IngestSummary

if TYPE_CHECKING:
    from assistant.api import Assistant

log = logging.getLogger(__name__)

STAGING_NAME = "uploads"
UPLOAD_TYPES = tuple(sorted(LOADERS)) + (".zip",)
MAX_ZIP_ENTRIES = 5000
MAX_ZIP_BYTES = 500_000_000
COPY_CHUNK = 1 << 16
KINDS = ", ".join(UPLOAD_TYPES)


def ingest_uploads(assistant: "Assistant", files: Sequence[str | os.PathLike],
                   progress: Callable[[int, int, str], None] | bool = False) -> IngestSummary:
    """Ingest uploaded files (and the contents of uploaded .zip archives) into the assistant's collection."""
    with tempfile.TemporaryDirectory(prefix="assistant-upload-") as temporary:
        root = Path(temporary) / STAGING_NAME
        root.mkdir()
        rejected = stage(files, root, assistant.settings.max_file_bytes)
        if any(path.is_file() for path in root.rglob("*")):
            summary = assistant.ingest(root, progress=progress)
        else:
            summary = IngestSummary()
    summary.not_read[:0] = rejected
    for name, reason in rejected:
        log.warning("upload rejected: %s: %s", name, reason)
    return summary


def stage(files: Sequence[str | os.PathLike], root: Path, max_file_bytes: int, max_entries: int = MAX_ZIP_ENTRIES,
          max_total: int = MAX_ZIP_BYTES) -> list[tuple[str, str]]:
    """Copy article files into `root` and unpack archives there; returns (name, reason) for each file rejected."""
    rejected: list[tuple[str, str]] = []
    for upload in files:
        path = Path(upload)
        name = path.name
        suffix = path.suffix.lower()
        if suffix == ".zip":
            rejected += extract_zip(path, root, max_file_bytes, max_entries, max_total)
        elif suffix not in LOADERS:
            rejected.append((name, f"not an article file; upload {KINDS}"))
        elif path.stat().st_size > max_file_bytes:
            rejected.append((name, f"larger than max_file_bytes ({max_file_bytes} bytes)"))
        else:
            shutil.copyfile(path, _free_name(root / _safe_file_name(name)))
    return rejected


def extract_zip(archive: Path, root: Path, max_file_bytes: int, max_entries: int = MAX_ZIP_ENTRIES,
                max_total: int = MAX_ZIP_BYTES) -> list[tuple[str, str]]:
    """Unpack the article files of `archive` under `root` (into root/STEM/ unless they all sit in one folder);
    returns (archive: entry, reason) for each entry not unpacked."""
    label = archive.name
    try:
        with zipfile.ZipFile(archive) as zipped:
            entries = [info for info in zipped.infolist() if not info.is_dir()]
            if len(entries) > max_entries:
                return [(label, f"holds {len(entries)} files; an upload may hold at most {max_entries}. Split it.")]
            readable = [info for info in entries if entry_problem(info, max_file_bytes) is None]
            base = root if _one_top_folder(readable) else _free_name(root / _safe_file_name(archive.stem))
            return _extract(zipped, entries, base, label, max_file_bytes, max_total)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        return [(label, f"not a readable .zip archive ({exc})")]


def _extract(zipped: zipfile.ZipFile, entries: list[zipfile.ZipInfo], base: Path, label: str, max_file_bytes: int,
             max_total: int) -> list[tuple[str, str]]:
    rejected, total = [], 0
    for info in entries:
        shown = f"{label}: {info.filename[:200]}"
        problem = entry_problem(info, max_file_bytes)
        if problem:
            rejected.append((shown, problem))
            continue
        if total >= max_total:
            rejected.append((shown, f"not unpacked: the archive unpacks to more than {max_total} bytes"))
            continue
        target = base.joinpath(*PurePosixPath(info.filename).parts)
        if not target.resolve().is_relative_to(base.resolve()):  # belt and braces after entry_problem
            rejected.append((shown, "its path leads outside the archive's folder; not unpacked"))
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            written = _copy_bounded(zipped, info, target, min(max_file_bytes, max_total - total))
        except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as exc:
            rejected.append((shown, f"damaged or unreadable in the archive ({exc}); not unpacked"))
            continue
        except FileExistsError:
            rejected.append((shown, "another uploaded file has the same path; not unpacked"))
            continue
        except OSError as exc:
            rejected.append((shown, f"cannot be unpacked here ({exc.strerror or exc})"))
            continue
        if written is None:
            too_big = (
                "larger than max_file_bytes" if max_total - total > max_file_bytes else "over the archive's size limit"
            )
            rejected.append((shown, f"{too_big} when unpacked; not unpacked"))
            continue
        total += written
    return rejected


def entry_problem(info: zipfile.ZipInfo, max_file_bytes: int) -> str | None:
    """Why an archive entry is not unpacked, or None when it may be."""
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path; archives may hold only relative paths"
    if ".." in parts:
        return "its path climbs out of the archive ('..'); not unpacked"
    if "\\" in name or "\x00" in name:
        return "a path with a backslash or a NUL character; not unpacked"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link; links are not unpacked"
    if mode and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return "not a regular file (a device, FIFO or socket); not unpacked"
    if info.flag_bits & 0x1:
        return "encrypted; not unpacked"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".zip":
        return "an archive inside the archive is not opened; upload it on its own"
    if suffix not in LOADERS:
        return f"not an article file; archives may hold {', '.join(sorted(LOADERS))}"
    if info.file_size > max_file_bytes:
        return f"larger than max_file_bytes ({max_file_bytes} bytes)"
    return None


def _copy_bounded(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> int | None:
    """Unpack one entry, stopping (and removing what was written) past `limit` bytes; the bytes written, else None."""
    written = 0
    with open(target, "xb") as out:
        try:
            with zipped.open(info) as source:
                while chunk := source.read(COPY_CHUNK):
                    written += len(chunk)
                    if written > limit:
                        break
                    out.write(chunk)
        except BaseException:
            out.close()
            target.unlink()
            raise
    if written > limit:
        target.unlink()
        return None
    return written


def _one_top_folder(entries: list[zipfile.ZipInfo]) -> bool:
    """True when every entry sits in the same top folder (a zipped folder), so it unpacks as that folder."""
    tops = {PurePosixPath(info.filename).parts[0] for info in entries if PurePosixPath(info.filename).parts}
    return len(tops) == 1 and all(len(PurePosixPath(info.filename).parts) > 1 for info in entries)


def _safe_file_name(name: str) -> str:
    cleaned = "".join(ch if ch.isprintable() and ch not in "/\\" else "_" for ch in name).strip(". ") or "upload"
    return cleaned[:200]


def _free_name(path: Path) -> Path:
    """`path`, or path with -2, -3… before its suffix when that name is taken (two uploads of one name)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate
