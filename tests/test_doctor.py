"""`assistant doctor`: installed versions and the project's own list of advisories (assistant/advisories.toml)."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import tomllib

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.doctor import PACKAGES, Advisory, load_advisories

from conftest import REPO

REQUIRED = {"gradio-ssr-login-bypass": ("gradio", "ssr_mode=False"),
            "chroma-server-no-auth": ("chromadb", "allow_remote_chroma")}


def _installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def test_doctor_lists_versions_and_advisories():
    result = CliRunner().invoke(main, ["doctor"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    for package in ("gradio", "chromadb", "torch", "onnxruntime", "spacy", "transformers", "langchain-core",
                    "sentence-transformers", "tiktoken"):
        line = next(text for text in out.splitlines() if text.strip().startswith(package + " "))
        assert line.split()[-1] == (_installed(package) or "installed"), line
    assert "not an online audit" in out and "pip-audit checks nothing" in out
    assert "- gradio-ssr-login-bypass: gradio >=6.27,<6.32 — installed " in out
    assert "ssr_mode=False" in out and "allow_remote_chroma" in out


def test_doctor_json_says_which_advisories_the_installed_versions_fall_in():
    from packaging.version import Version

    result = CliRunner().invoke(main, ["doctor", "--json"], catch_exceptions=False)
    data = json.loads(result.output)
    assert set(data["packages"]) >= set(PACKAGES) - {"news-assistant"}
    assert all(data["packages"][p] == _installed(p) for p in PACKAGES)
    assert "not an online audit" in data["note"]
    entries = {e["id"]: e for e in data["advisories"]}
    for advisory_id, (package, guard) in REQUIRED.items():
        entry = entries[advisory_id]
        assert entry["package"] == package and guard in entry["guard"] and entry["installed"] == _installed(package)
    gradio = Version(_installed("gradio"))
    assert entries["gradio-ssr-login-bypass"]["installed_is_affected"] == (Version("6.27") <= gradio < Version("6.32"))
    assert (
        entries["chroma-server-no-auth"]["affected"] == ""
        and entries["chroma-server-no-auth"]["installed_is_affected"] is True
    )


@pytest.mark.parametrize(
    "version, affected",
    [
        ("6.26.9", False),
        ("6.27.0", True),
        ("6.31.0", True),
        ("6.31.5", True),
        ("6.32.0", False),
        ("6.32.0rc1", False),
        ("6.27.0b2", False),
        (None, None),
    ],
)
def test_the_affected_range_is_a_version_specifier(version, affected):
    advisory = Advisory("x", "gradio", ">=6.27,<6.32", "s", "g", "w")
    assert advisory.affects(version) is affected
    assert Advisory("y", "chromadb", "", "s", "g", "w").affects("1.5.9") is True


def test_the_list_is_well_formed_and_shipped_with_the_package():
    advisories = load_advisories()
    ids = [a.id for a in advisories]
    assert len(ids) == len(set(ids)) and set(REQUIRED) <= set(ids)
    for advisory in advisories:  # every guard it names lives in a file that exists
        for part in advisory.where.split(";"):
            path = part.strip().split()[0]
            assert (REPO / path).is_file(), (advisory.id, path)
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["assistant"]
    assert any(fnmatch.fnmatch("advisories.toml", p) for p in patterns)
    with pytest.raises(ValueError, match="lacks guard"):
        load_advisories('[[advisory]]\nid = "z"\npackage = "p"\naffected = ""\nsummary = "s"\nwhere = "w"\n')
