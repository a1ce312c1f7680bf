"""What an ingest run did, for people (describe) and machines (to_dict)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class IngestSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (source, the stored copy it duplicates)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files of a type we do not read
    undated: list[str] = field(default_factory=list)
    chunks_added: int = 0
    seconds: float = 0.0

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.duplicates or self.chunks_added)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self, limit: int = 10) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"duplicates {len(self.duplicates)}, failed {len(self.failed)}, deleted {len(self.deleted)} "
            f"({self.chunks_added} chunks written in {self.seconds:.1f}s)"
        ]
        if self.duplicates:
            lines.append(f"{len(self.duplicates)} duplicate(s) stored once:")
            lines += [f"  {source} = {original}" for source, original in self.duplicates[:limit]]
            if len(self.duplicates) > limit:
                lines.append(f"  … and {len(self.duplicates) - limit} more")
        if self.failed:
            lines.append(f"{len(self.failed)} file(s) failed and were skipped (anything stored before is kept):")
            lines += [f"  {source}: {reason}" for source, reason in self.failed]
        if self.undated:
            shown = ", ".join(self.undated[:limit]) + (f" … and {len(self.undated) - limit} more" if len(self.undated) > limit else "")
            lines.append(f"{len(self.undated)} article(s) have no publication date: {shown}")
        if self.skipped:
            lines.append(f"{len(self.skipped)} file(s) of unsupported types ignored: " + ", ".join(self.skipped[:limit]))
        return "\n".join(lines)
