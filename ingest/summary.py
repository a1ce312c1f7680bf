"""What an ingest run did, for people (describe) and machines (to_dict)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class IngestSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (source, the stored copy it duplicates)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason): files that could not be loaded
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files of a type we do not read
    # (path, reason): links not followed, folders that cannot be listed, devices
    not_read: list[tuple[str, str]] = field(default_factory=list)
    # (source, what was lost): files read with damage, e.g. a bad JSONL line
    warnings: list[tuple[str, str]] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)
    chunks_added: int = 0
    orphans_removed: int = 0  # chunks an interrupted earlier run left without a source record, deleted before writing
    seconds: float = 0.0

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.added or self.updated or self.deleted or self.duplicates or self.chunks_added or self.orphans_removed
        )

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self, limit: int = 10) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"duplicates {len(self.duplicates)}, failed {len(self.failed)}, deleted {len(self.deleted)} "
            f"({self.chunks_added} chunks written in {self.seconds:.1f}s)"
        ]
        if self.orphans_removed:
            lines.append(f"removed {self.orphans_removed} chunk(s) that an interrupted earlier ingest left unfinished "
                         "(never answerable; their files were ingested again if still there)")
        if self.duplicates:
            lines.append(f"{len(self.duplicates)} duplicate(s) stored once:")
            lines += _listed([f"{source} = {original}" for source, original in self.duplicates], limit)
        if self.failed:
            lines.append(f"{len(self.failed)} file(s) failed and were skipped (anything stored before is kept):")
            lines += [f"  {source}: {reason}" for source, reason in self.failed]
        if self.not_read:
            lines.append(f"{len(self.not_read)} entr{'y was' if len(self.not_read) == 1 else 'ies were'} not read:")
            lines += [f"  {path}: {reason}" for path, reason in self.not_read]
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s) on files that were read (the rest of each file is stored):")
            lines += _listed([f"{source}: {message}" for source, message in self.warnings], limit)
        if self.undated:
            shown = ", ".join(self.undated[:limit]) + (
                f" … and {len(self.undated) - limit} more" if len(self.undated) > limit else ""
            )
            lines.append(f"{len(self.undated)} article(s) have no publication date: {shown}")
        if self.skipped:
            lines.append(
                f"{len(self.skipped)} file(s) of unsupported types ignored: " + ", ".join(self.skipped[:limit])
            )
        return "\n".join(lines)


def _listed(lines: list[str], limit: int) -> list[str]:
    shown = [f"  {line}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"  … and {len(lines) - limit} more")
    return shown
