"""Visible text of an HTML page: what a reader sees, never scripts, styles, comments or hidden elements."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment

_INVISIBLE_TAGS = ["script", "style", "noscript", "template", "head", "iframe", "object", "embed", "svg", "canvas", "form", "button", "select", "input", "textarea", "nav", "footer"]
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])", re.IGNORECASE)
_BLOCK_TAGS = {"p", "div", "section", "article", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "pre", "header", "main", "figcaption", "dd", "dt"}
_DATE_META = ("article:published_time", "datePublished", "pubdate", "date", "dc.date", "og:published_time", "publish-date")


@dataclass
class Page:
    text: str
    title: str | None
    date: str | None
    url: str | None
    title_in_text: bool


def visible_text(html: str) -> Page:
    soup = BeautifulSoup(html, "html.parser")
    title = _title(soup)
    date = _date(soup)
    url = _canonical_url(soup)
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_INVISIBLE_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = soup.get_text()
    text = re.sub(r"[ \t\r\f\v\u00a0]+", " ", text)
    paragraphs = [line.strip() for line in re.split(r"\n\s*\n", text)]
    paragraphs = [" ".join(p.split()) for p in paragraphs if p.strip()]
    body = "\n\n".join(paragraphs)
    title_in_text = bool(title) and body.startswith(title)
    return Page(text=body, title=title, date=date, url=url, title_in_text=title_in_text)


def _is_hidden(tag) -> bool:
    if tag.attrs is None:
        return False
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    if tag.name == "meta" or tag.name == "link":
        return False
    return bool(_HIDDEN_STYLE.search(tag.get("style", "") or ""))


def _title(soup: BeautifulSoup) -> str | None:
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        return " ".join(h1.get_text(" ", strip=True).split())
    og = soup.find("meta", attrs={"property": "og:title"})
    if og and og.get("content"):
        return og["content"].strip()
    if soup.title and soup.title.get_text(strip=True):
        return " ".join(soup.title.get_text(" ", strip=True).split())
    return None


def _date(soup: BeautifulSoup) -> str | None:
    for name in _DATE_META:
        meta = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"itemprop": name})
        if meta and meta.get("content"):
            return meta["content"]
    time = soup.find("time", attrs={"datetime": True})
    return time["datetime"] if time else None


def _canonical_url(soup: BeautifulSoup) -> str | None:
    link = soup.find("link", attrs={"rel": "canonical"})
    if link and link.get("href"):
        return link["href"]
    og = soup.find("meta", attrs={"property": "og:url"})
    return og["content"] if og and og.get("content") else None
