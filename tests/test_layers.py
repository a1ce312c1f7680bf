"""The layers import one way (docs/architecture.md): a module imports its own layer or a lower one, never a higher one.

An `ast` walk over assistant/, ingest/, prompts/ and ui/: every import counts (top-level or inside a function,
absolute or relative) except those under `if TYPE_CHECKING:`, which never run. Each module gets its layer from
LAYER_OF (the longest matching prefix wins); a module with no entry fails the test until it is given one.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "ingest", "prompts", "ui")

# From the bottom up. Layers on one line of the diagram share a rank ("ingest" and "retrieval" may import each other).
# prompts/ sits below everything: data plus a loader that imports nothing of the project.
LAYERS = {"prompts": 0, "shared": 1, "text": 2, "models": 3, "store": 4, "ingest": 5, "retrieval": 5, "reading": 6,
          "service": 7, "faces": 8}

# Module prefix -> layer. A prefix covers the module of that name and everything under it ("assistant.core" covers
# assistant/core/__init__.py and assistant/core/settings.py); a package's own __init__ is named "pkg.__init__".
LAYER_OF = {
    "prompts": "prompts",  # the prompt files and their loader
    "assistant.core": "shared",  # answer types, settings, errors, is_loopback, optional-package checks
    "assistant.text": "text",  # sentences, tokens, terms, names, time expressions, the question check, grounding
    "assistant.models": "models",  # the embedder and the ranker's reader (ONNX, loaded once)
    "assistant.storage": "store",  # Chroma, the chunk store, named collections
    "ingest": "ingest",  # files -> articles -> chunks -> store
    "assistant.retrieval": "retrieval",  # hybrid dense + BM25, the LangChain retrievers
    "assistant.reading": "reading",  # the span reader
    "assistant.ranker": "reading",  # the sentence ranker (the default answerer) and the overlap baseline
    "assistant.llm": "reading",  # the LLM answerers
    "assistant.__init__": "service",  # `from assistant import Assistant, Answer, ...`
    "assistant.api": "service",
    "assistant.backends": "service",
    "assistant.chain": "service",
    "assistant.conversation": "service",
    "assistant.history": "service",  # SQLite conversations and feedback, kept in step by Assistant.rename_collection
    "assistant.timeline": "service",
    "assistant.cli": "faces",  # the one face that may start the page (ui/)
    "assistant.cli_common": "faces",
    "assistant.cli_eval": "faces",
    "assistant.cli_ui": "faces",
    "assistant.doctor": "faces",
    "assistant.evaluation": "faces",
    "ui": "faces",
}


def import_problems(root: Path, packages=PACKAGES, layer_of=LAYER_OF, layers=LAYERS) -> list[str]:
    """Imports that go up a layer, and modules without a layer, in the packages under `root`, one line each."""
    files = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            files[".".join(path.relative_to(root).with_suffix("").parts)] = path

    def module(name: str) -> str | None:  # a module's name in `files`, packages as "pkg.__init__"
        return name if name in files else name + ".__init__" if name + ".__init__" in files else None

    def layer(name: str) -> str | None:
        matches = [p for p in layer_of if name == p or name.startswith(p + ".")]
        return layer_of[max(matches, key=len)] if matches else None

    problems = [f"{name}: no layer; add it (or a prefix of it) to LAYER_OF in tests/test_layers.py"
                for name in files if layer(name) is None]
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        unused = {id(node) for test in ast.walk(tree) if isinstance(test, ast.If) and "TYPE_CHECKING" in
                  ast.unparse(test.test) for statement in test.body for node in ast.walk(statement)}
        package = name.rsplit(".", 1)[0].split(".")  # for a "pkg.__init__" that is the package itself
        for node in ast.walk(tree):
            if id(node) in unused:
                continue
            if isinstance(node, ast.Import):
                targets = [module(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""] if node.level
                                else [node.module]).strip(".")
                targets = [module(f"{base}.{alias.name}") or module(base) for alias in node.names]
            else:
                continue
            for target in sorted({t for t in targets if t and t != name}):
                low, high = layer(name), layer(target)
                if low and high and layers[high] > layers[low]:
                    problems.append(f"{path.relative_to(root)}:{node.lineno}: {name} ({low}) imports {target} ({high})")
    return problems


def test_no_import_goes_up_a_layer_and_every_module_has_one():
    problems = import_problems(REPO)
    assert not problems, "\n".join(["imports that go up a layer, or modules without one:", *problems])


def test_every_entry_of_the_table_names_a_module():
    names = [".".join(p.relative_to(REPO).with_suffix("").parts) for package in PACKAGES
             for p in (REPO / package).rglob("*.py")]
    assert [p for p in LAYER_OF if not any(n == p or n.startswith(p + ".") for n in names)] == []
    assert set(LAYER_OF.values()) <= set(LAYERS)


# ---- the checker itself, on a made-up package ---------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


TOY_LAYERS = {"pkg.__init__": "faces", "pkg.low": "shared", "pkg.mid": "store", "pkg.top": "faces"}


def test_the_checker_reports_a_lower_layer_importing_a_higher_one(tmp_path):
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low.py": "import os\n\n\ndef helper():\n    from pkg.top import main  # dodging the rule in a function\n",
        "pkg/mid.py": "from typing import TYPE_CHECKING\n\nfrom pkg import low\n\n"
                      "if TYPE_CHECKING:\n    from pkg.top import main\n",
        "pkg/top.py": "from . import mid\nfrom .low import helper\n\n\ndef main():\n    pass\n",
    })
    assert import_problems(root, ("pkg",), TOY_LAYERS) == ["pkg/low.py:5: pkg.low (shared) imports pkg.top (faces)"]


def test_the_checker_passes_a_clean_tree_and_names_a_module_without_a_layer(tmp_path):
    files = {"pkg/__init__.py": "", "pkg/low.py": "", "pkg/mid.py": "from . import low\n",
             "pkg/top.py": "import pkg.mid\nfrom pkg.low import x\n"}
    assert import_problems(_tree(tmp_path, files), ("pkg",), TOY_LAYERS) == []
    (tmp_path / "pkg" / "new.py").write_text("from pkg import top\n", encoding="utf-8")
    assert import_problems(tmp_path, ("pkg",), TOY_LAYERS) == [
        "pkg.new: no layer; add it (or a prefix of it) to LAYER_OF in tests/test_layers.py"
    ]


def test_a_lower_layer_imports_without_loading_higher_ones():
    """The package `assistant` exports its public names lazily: importing a low module loads nothing of the layers
    above it, and ingest (which uses assistant.core) imports first without a cycle through assistant/__init__.py."""
    import subprocess
    import sys

    script = ("import sys, assistant.core.errors, assistant.text.dates; "
              "print(sorted(m for m in sys.modules if m.startswith(('assistant.api', 'assistant.storage', 'ingest'))))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
    first = subprocess.run([sys.executable, "-c", "import ingest.pipeline; from assistant import Assistant"], cwd=REPO,
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
