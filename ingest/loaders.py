"""Loaders: one function per file format, each turning a file into Article records.

Text formats carry optional header lines (`date 2021-09-14`, `Title: …`, `URL: …`)
or YAML front matter; HTML keeps only what a reader would see; JSON and JSONL
hold one article per object.

Two ways in: `load_bytes` (what ingest uses) keeps what it can of a damaged file and says what it dropped
(a bad JSONL line, invalid UTF-8 bytes) in `Loaded.warnings`; `load_file` is strict and raises LoadError
naming the first problem. Loaders take an optional `warnings` list: given one, a record that cannot be
read is skipped and noted there; without one, it is an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from ingest.articles import Article
from ingest.dates import parse_article_date
from ingest.decoding import LoadError, decode
from ingest.html_text import visible_text

# "date 2021-09-14" (the seed format) or "Title: …": a date needs a readable date, other keys a colon.
_HEADER = re.compile(r"^\s*(date|published|updated|title|url|source)\s*([:=]?)\s*(.+?)\s*$", re.IGNORECASE)
HEADER_LINES = 8  # header lines are looked for among the first lines only
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_SENTENCE_END = re.compile(r"[.!?]['\"’”)]?$")
_TITLE_WORDS = 25

TEXT_FIELDS = ("text", "body", "content", "article", "story")
TITLE_FIELDS = ("title", "headline", "name")
DATE_FIELDS = ("date", "published", "published_at", "publication_date", "pubdate", "pubDate", "datetime")
URL_FIELDS = ("url", "link", "href")


@dataclass
class Loaded:
    """The articles read from one file, and what was dropped on the way (for the ingest summary)."""

    articles: list[Article]
    warnings: list[str] = field(default_factory=list)


def load_file(path: Path, source: str) -> list[Article]:
    """Load the articles in `path`; `source` is the name to cite it by. Strict: any damage raises LoadError."""
    loaded = load_bytes(path.read_bytes(), path.suffix, source)
    if loaded.warnings:
        raise LoadError(loaded.warnings[0])
    return loaded.articles


def load_bytes(data: bytes, suffix: str, source: str) -> Loaded:
    """Load a file's bytes as the format its suffix names, keeping what can be read. Raises LoadError when nothing
    can."""
    loader = LOADERS.get(suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(sorted(LOADERS))}")
    decoded = decode(data)
    warnings = list(decoded.warnings)
    return Loaded(loader(decoded.text, source, warnings), warnings)


def load_text(text: str, source: str, warnings: list[str] | None = None) -> list[Article]:
    """Plain text or Markdown: header lines or front matter, then a headline line, then the body."""
    meta, text = _split_metadata(text)
    text = text.strip("\n").rstrip()
    if source.lower().endswith(".md"):
        text = re.sub(r"^#{1,6}\s+", "", text, count=1)
    return [_article(source, text, meta)]


def load_html(html: str, source: str, warnings: list[str] | None = None) -> list[Article]:
    """HTML: visible text only, title from <title>/<h1>, date from meta tags or <time>."""
    page = visible_text(html)
    meta = {"title": page.title, "date": page.date, "url": page.url}
    return [_article(source, page.text, meta, headline_in_text=page.title_in_text)]


def load_json(text: str, source: str, warnings: list[str] | None = None) -> list[Article]:
    """A JSON object, or a list of them (or {"articles": [...]}), one article each."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    items = data if isinstance(data, list) else [data]
    return _records(((i + 1, item) for i, item in enumerate(items)), source, "item", warnings)


def load_jsonl(text: str, source: str, warnings: list[str] | None = None) -> list[Article]:
    """One JSON object per line; blank lines are allowed. Lines are numbered from 1, as editors show them."""
    records = []
    problems: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            _problem(f"invalid JSON on line {number}: {exc.msg} (column {exc.colno})", warnings, problems)
    return _records(records, source, "line", warnings, problems)


def _records(
    numbered, source: str, unit: str, warnings: list[str] | None, problems: list[str] | None = None
) -> list[Article]:
    """One article per JSON object; unreadable records are errors, or (given `warnings`) skipped and noted there."""
    articles = []
    problems = problems if problems is not None else []
    for number, item in numbered:
        try:
            articles.append(_record(item, f"{source}#{number}", f"{unit} {number}"))
        except LoadError as exc:
            _problem(str(exc), warnings, problems)
    if not articles:
        raise LoadError("no articles in the file" + (f" ({'; '.join(problems[:3])})" if problems else ""))
    if warnings is not None:
        warnings.extend(f"{problem}; skipped, the rest of the file was read" for problem in problems)
    return articles


def _problem(message: str, warnings: list[str] | None, problems: list[str]) -> None:
    """A record that cannot be read: an error when loading strictly, else remembered for the warnings."""
    if warnings is None:
        raise LoadError(message)
    problems.append(message)


def _record(item, source: str, name: str) -> Article:
    if not isinstance(item, dict):
        raise LoadError(f"{name} is not a JSON object")
    body = _first(item, TEXT_FIELDS)
    if not isinstance(body, str) or not body.strip():
        raise LoadError(f"{name} has no article text (expected one of the fields {', '.join(TEXT_FIELDS)})")
    meta = {"title": _first(item, TITLE_FIELDS), "date": _first(item, DATE_FIELDS), "url": _first(item, URL_FIELDS)}
    return _article(source, body.strip(), meta, headline_in_text=False)


def _first(item: dict, names: tuple[str, ...]):
    for name in names:
        if item.get(name) not in (None, ""):
            return item[name]
    return None


def _split_metadata(text: str) -> tuple[dict, str]:
    """Front matter or leading `key value` header lines, and the text after them."""
    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict):
            return {str(k).lower(): v for k, v in loaded.items()}, text[match.end():]
    lines = text.split("\n")
    headline: str | None = None
    taken: list[int] = []  # indexes of header lines (and of a headline standing above them)
    for index, line in enumerate(lines[:HEADER_LINES]):
        if not line.strip():
            continue
        header = _HEADER.match(line)
        key = header and ("date" if header[1].lower() == "published" else header[1].lower())
        if header and (parse_article_date(header[3]) is not None if key in ("date", "updated") else bool(header[2])):
            meta.setdefault(key, header[3])
            taken.append(index)
            continue
        if headline is None and not meta and _looks_like_headline(line):
            headline = line.strip()  # "Headline" then "date 2022-08-18": the headline comes first
            taken.append(index)
            continue
        break
    if not meta:
        return {}, text
    if headline is not None:
        meta.setdefault("title", headline)
    last = max(taken)
    return meta, "\n".join(lines[last + 1:])


def _looks_like_headline(line: str) -> bool:
    """Short enough for a title; only kept as one when a header line follows it."""
    return len(line.split()) <= _TITLE_WORDS


def _article(source: str, text: str, meta: dict, headline_in_text: bool = True) -> Article:
    if not text.strip():
        raise LoadError("no article text")
    title = str(meta["title"]).strip() if meta.get("title") else None
    body_start = 0
    if headline_in_text:
        first_line = text.split("\n", 1)[0].strip()
        if title is None and _is_headline(first_line, text):
            title = first_line
        if title is not None and text.startswith(title):
            body_start = len(title)
    if title is None:
        title = _title_from_body(text)
    return Article(
        source=source,
        text=text,
        title=title,
        date=parse_article_date(meta.get("date")),
        url=str(meta["url"]) if meta.get("url") else None,
        body_start=body_start,
    )


def _is_headline(line: str, text: str) -> bool:
    """A short first line, not a sentence, followed by more text."""
    return (
        bool(line)
        and len(line.split()) <= _TITLE_WORDS
        and not _SENTENCE_END.search(line)
        and len(text) > len(line) + 1
    )


def _title_from_body(text: str, words: int = 12) -> str:
    """No headline: the start of the first sentence stands in for one."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].split()
    return " ".join(first[:words]) + ("…" if len(first) > words else "")


LOADERS: dict[str, Callable[..., list[Article]]] = {  # (text, source, warnings=None) -> articles
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".json": load_json,
    ".jsonl": load_jsonl,
}
