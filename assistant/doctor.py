"""`assistant doctor`: the installed versions of the packages that matter, and the known advisories the project
guards against, read from assistant/advisories.toml (a list kept in this repository, not an online audit)."""

from __future__ import annotations

import importlib.metadata
import platform
import tomllib
from dataclasses import asdict, dataclass
from importlib.resources import files

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

PACKAGES = ("news-assistant", "gradio", "chromadb", "torch", "onnxruntime", "spacy", "transformers", "langchain-core",
            "sentence-transformers", "tiktoken")
ADVISORIES_FILE = "advisories.toml"
NOT_AN_AUDIT = (
    "This is a list kept by the project (assistant/advisories.toml), not an online audit: nothing was looked up, "
    "and the vulnerability services are unreachable here, so pip-audit checks nothing."
)


@dataclass(frozen=True)
class Advisory:
    id: str
    package: str
    affected: str  # a PEP 440 specifier; "" for every version
    summary: str
    guard: str
    where: str

    def affects(self, version: str | None) -> bool | None:
        """True when `version` is in the affected range, False when not, None when the package is not installed."""
        if version is None:
            return None
        if not self.affected:
            return True

        try:
            return SpecifierSet(self.affected).contains(Version(version), prereleases=True)
        except InvalidVersion:
            return True  # a version we cannot read: assume the worst


@dataclass(frozen=True)
class AdvisoryStatus:
    advisory: Advisory
    installed: str | None
    affected: bool | None

    def to_dict(self) -> dict:
        return {**asdict(self.advisory), "installed": self.installed, "installed_is_affected": self.affected}


def installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def installed_versions(packages=PACKAGES) -> dict[str, str | None]:
    return {package: installed_version(package) for package in packages}


def load_advisories(text: str | None = None) -> list[Advisory]:
    """The advisories in assistant/advisories.toml (or in `text`, TOML of the same shape)."""
    if text is None:
        text = files("assistant").joinpath(ADVISORIES_FILE).read_text(encoding="utf-8")
    entries = tomllib.loads(text).get("advisory", [])
    fields = ("id", "package", "affected", "summary", "guard", "where")
    advisories = []
    for number, entry in enumerate(entries, 1):
        missing = [f for f in fields if not isinstance(entry.get(f), str)]
        if missing:
            raise ValueError(
                f"{ADVISORIES_FILE}: advisory {number} ({entry.get('id', '?')}) lacks {', '.join(missing)}"
            )
        advisories.append(Advisory(**{f: entry[f] for f in fields}))
    return advisories


def check(advisories: list[Advisory] | None = None) -> list[AdvisoryStatus]:
    statuses = []
    for advisory in load_advisories() if advisories is None else advisories:
        version = installed_version(advisory.package)
        statuses.append(AdvisoryStatus(advisory, version, advisory.affects(version)))
    return statuses


def report() -> dict:
    """Everything `assistant doctor --json` prints."""
    return {"python": platform.python_version(), "packages": installed_versions(),
            "advisories": [s.to_dict() for s in check()], "note": NOT_AN_AUDIT}


def describe(data: dict) -> str:
    """The report as text for a person."""
    lines = [f"Python {data['python']}", "", "Installed packages:"]
    width = max(len(p) for p in data["packages"])
    for package, version in data["packages"].items():
        lines.append(f"  {package:<{width}}  {version or 'not installed'}")
    lines += ["", "Known advisories and how the project guards against them.", data["note"]]
    for entry in data["advisories"]:
        if entry["installed"] is None:
            state = "not installed"
        elif entry["installed_is_affected"]:
            state = f"installed {entry['installed']}: affected, guarded as below"
        else:
            state = f"installed {entry['installed']}: not affected"
        lines += ["", f"- {entry['id']}: {entry['package']} {entry['affected'] or '(all versions)'} — {state}",
                  f"    {entry['summary']}", f"    guard: {entry['guard']}", f"    where: {entry['where']}"]
    return "\n".join(lines)
