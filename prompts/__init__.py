"""Prompt templates as files, loaded by name, with strict variables.

    >>> from prompts import load
    >>> load("condense").variables
    frozenset({'history', 'question'})
    >>> load("condense").render(question="Why?")   # doctest: +SKIP
    PromptError: prompt 'condense' needs variable(s): history

A template is a UTF-8 text file `NAME.txt` in this folder (or in a folder given to `load`).
`{name}` marks a variable; `{{` and `}}` are literal braces. Nothing else is allowed between
braces (no attribute access, indexes, format specs or conversions), and rendering is strict:
a variable the template uses but the caller does not give, or one the caller gives that the
template does not use, is an error that names it. Values are inserted as they are, never
formatted again, so braces in article text are harmless.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROMPTS_DIR = Path(__file__).resolve().parent
SUFFIX = ".txt"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VARIABLE = re.compile(r"^[a-z_][a-z0-9_]*$")

__all__ = ["PROMPTS_DIR", "Prompt", "PromptError", "load", "names"]


class PromptError(ValueError):
    """A prompt file is missing or malformed, or was rendered with the wrong variables.

    This package imports nothing of the project; the library raises it on as a ConfigError, a user error
    (assistant.llm.prompting.prompt_errors)."""


@dataclass(frozen=True)
class Prompt:
    """One template: its name, source file and the variables it needs."""

    name: str
    path: Path
    pieces: tuple[tuple[str, str | None], ...]  # (literal text, variable name or None)

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(name for _, name in self.pieces if name is not None)

    def render(self, **values: object) -> str:
        """The template with every variable filled in; missing or unexpected variables raise PromptError."""
        return self.fill(values)

    def fill(self, values: Mapping[str, object], allow_unused: bool = False) -> str:
        """Like `render`; with allow_unused, values the template does not use are ignored (a template may
        show fewer of the fields it is offered, e.g. a passage without its title), missing ones still raise."""
        missing = sorted(self.variables - set(values))
        if missing:
            raise PromptError(f"prompt {self.name!r} ({self.path}) needs variable(s): {', '.join(missing)}")
        unexpected = sorted(set(values) - self.variables)
        if unexpected and not allow_unused:
            raise PromptError(f"prompt {self.name!r} ({self.path}) does not use variable(s): {', '.join(unexpected)}")
        return "".join(literal + ("" if name is None else str(values[name])) for literal, name in self.pieces)


def parse(name: str, path: Path, text: str) -> Prompt:
    """Split a template into literal text and variable names; reject anything but plain `{name}` fields."""
    pieces: list[tuple[str, str | None]] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise PromptError(
            f"prompt {name!r} ({path}) is malformed: {exc}; write literal braces as {{{{ and }}}}"
        ) from None
    for literal, field, spec, conversion in parsed:
        if field is None:
            pieces.append((literal, None))
            continue
        if spec or conversion or not _VARIABLE.match(field):
            shown = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise PromptError(
                f"prompt {name!r} ({path}) has an invalid field {{{shown}}}: only {{lower_case_name}} is allowed"
            )
        pieces.append((literal, field))
    return Prompt(name, path, tuple(pieces))


@functools.lru_cache(maxsize=64)
def _load(name: str, directory: Path) -> Prompt:
    path = directory / f"{name}{SUFFIX}"
    if not path.is_file():
        available = ", ".join(names(directory)) or "none"
        raise PromptError(f"no prompt named {name!r} in {directory} (available: {available})")
    return parse(name, path, path.read_text(encoding="utf-8"))


def load(name: str, directory: str | Path | None = None) -> Prompt:
    """The prompt `name` from `directory` (default: this package's folder)."""
    if not _NAME.match(name):
        raise PromptError(f"invalid prompt name {name!r}: use lower-case letters, digits and underscores")
    return _load(name, Path(directory).resolve() if directory else PROMPTS_DIR)


def names(directory: str | Path | None = None) -> list[str]:
    """Names of the prompts available in `directory` (default: this package's folder)."""
    folder = Path(directory) if directory else PROMPTS_DIR
    return sorted(p.stem for p in folder.glob(f"*{SUFFIX}") if _NAME.match(p.stem))
