"""Visible text of an HTML page: what a reader sees, never scripts, styles, comments or hidden elements.

Parsed the way browsers read pages that rely on HTML5's optional tags: lxml (libxml2 2.14+, whose tokenizer
follows HTML5) closes `<head>` when body content starts, so a valid page without `</head>` keeps its body
(Python's html.parser left the body inside `<head>`, and the page came out empty). lxml also parses 100,000
nested elements in about a second, where html5lib's spec-exact tree builder is quadratic in the nesting depth.
Everything after parsing is linear: one walk over the tree with an explicit stack (no recursion, whatever
the depth), one pass over the meta tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from bs4 import BeautifulSoup, CData, NavigableString, Tag

PARSER = "lxml"
_INVISIBLE_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "iframe",
        "object",
        "embed",
        "svg",
        "canvas",
        "form",
        "button",
        "select",
        "input",
        "textarea",
        "nav",
        "footer",
    }
)
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "br",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "blockquote",
        "pre",
        "header",
        "main",
        "figcaption",
        "dd",
        "dt",
    }
)
_TEXT_TYPES = (NavigableString, CData)  # exact types: comments, doctypes and the like are strings too
_DATE_META = (
    "article:published_time",
    "datePublished",
    "pubdate",
    "date",
    "dc.date",
    "og:published_time",
    "publish-date",
)
_META_KEYS = ("property", "name", "itemprop")
_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_SUBSET_TOKEN = re.compile(r"\"[^\"]*\"|'[^']*'|\]\s*>")
_BLOCK_BREAK = object()  # marks the end of a block element on the walk's stack


@dataclass
class Page:
    text: str
    title: str | None
    date: str | None
    url: str | None
    title_in_text: bool


def visible_text(html: str) -> Page:
    soup = BeautifulSoup(without_internal_subset(html), PARSER)
    metas = _first_metas(soup)
    title = _title(soup, metas)
    date = _date(soup, metas)
    url = _canonical_url(soup, metas)
    body = _paragraphs(_visible_strings(soup))
    title_in_text = bool(title and body.startswith(title))
    return Page(text=body, title=title, date=date, url=url, title_in_text=title_in_text)


def without_internal_subset(html: str) -> str:
    """The page with a DOCTYPE's internal subset (`<!DOCTYPE html [<!ENTITY …>]>`) dropped.

    HTML has no internal subsets: an HTML5 parser ends the DOCTYPE at its first `>` and shows the rest of the
    subset ("]>" at least) as text. The subset is skipped up to the first `]>` outside quotes."""
    match = _DOCTYPE_SUBSET.search(html, 0, 4096)
    if match is None:
        return html
    for token in _SUBSET_TOKEN.finditer(html, match.end()):
        if token.group().startswith("]"):
            return html[:match.end() - 1].rstrip() + ">" + html[token.end():]
    return html  # an unterminated subset: left to the parser


def _visible_strings(soup: BeautifulSoup) -> str:
    """The text of every visible element, with a paragraph break around block elements, in document order."""
    pieces: list[str] = []
    stack: list = [soup]
    while stack:
        node = stack.pop()
        if node is _BLOCK_BREAK:
            pieces.append("\n\n")
        elif isinstance(node, Tag):
            if node.name in _INVISIBLE_TAGS or _is_hidden(node):
                continue
            if node.name in _BLOCK_TAGS:
                pieces.append("\n\n")
                stack.append(_BLOCK_BREAK)
            stack.extend(reversed(node.contents))
        elif type(node) in _TEXT_TYPES:
            pieces.append(str(node))
    return "".join(pieces)


def _paragraphs(text: str) -> str:
    """Paragraphs (split at blank lines) with their white space folded, joined by one blank line."""
    text = re.sub(r"[ \t\r\f\v\u00a0]+", " ", text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _is_hidden(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    if tag.name == "meta" or tag.name == "link":
        return False
    return bool(_HIDDEN_STYLE.search(_single(tag.get("style", "")) or ""))


def _first_metas(soup: BeautifulSoup) -> dict[tuple[str, str], Tag]:
    """The first <meta> of each (attribute, value) for property, name and itemprop: one pass over the page."""
    first: dict[tuple[str, str], Tag] = {}
    for meta in soup.find_all("meta"):
        for key in _META_KEYS:
            value = meta.get(key)
            if isinstance(value, str):
                first.setdefault((key, value), meta)
    return first


def _meta(metas: dict[tuple[str, str], Tag], value: str, keys: tuple[str, ...] = _META_KEYS) -> Tag | None:
    return next((metas[(key, value)] for key in keys if (key, value) in metas), None)


def _title(soup: BeautifulSoup, metas: dict[tuple[str, str], Tag]) -> str | None:
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        return " ".join(h1.get_text(" ", strip=True).split())
    og = _meta(metas, "og:title", ("property",))
    if og and og.get("content"):
        return _single(og["content"]).strip()
    if soup.title and soup.title.get_text(strip=True):
        return " ".join(soup.title.get_text(" ", strip=True).split())
    return None


def _date(soup: BeautifulSoup, metas: dict[tuple[str, str], Tag]) -> str | None:
    for name in _DATE_META:
        meta = _meta(metas, name)
        if meta and meta.get("content"):
            return _single(meta["content"])
    time = soup.find("time", attrs={"datetime": True})
    return _single(time["datetime"]) if time else None


def _canonical_url(soup: BeautifulSoup, metas: dict[tuple[str, str], Tag]) -> str | None:
    link = soup.find("link", attrs={"rel": "canonical"})
    if link and link.get("href"):
        return _single(link["href"])
    og = _meta(metas, "og:url", ("property",))
    return _single(og["content"]) if og and og.get("content") else None


def _single(value: object) -> str:
    """An attribute's value as bs4 gives it: a str, since only multi-valued attributes (class, rel, …) come as lists
    and none is read here. A cast for the type checker; the value is returned as it is."""
    return cast(str, value)
