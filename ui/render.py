"""HTML for the chat page: answers, cited passages, the collection panel, errors.

Every piece of text that comes from articles, from the answer or from the user is passed
through html.escape before any markup is added; the only tags in the output are the ones
written here, and no article value ever becomes an attribute except an http(s) link target.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any, Iterator
from urllib.parse import urlsplit

from assistant.answer import Answer, Citation

_MARKER = re.compile(r"\[(\d{1,3})\]")


def text(value: Any) -> str:
    """Escaped text, quotes included, so it is safe in element content and in attribute values."""
    return escape("" if value is None else str(value), quote=True)


def _markers(escaped: str) -> str:
    """Turn the inline [n] markers of an (already escaped) answer into superscript references."""
    return _MARKER.sub(r'<sup class="cite-ref">[\1]</sup>', escaped)


def answer_prefixes(answer_text: str) -> Iterator[str]:
    """The answer text growing word by word, for streaming."""
    words = answer_text.split(" ")
    for end in range(1, len(words) + 1):
        yield " ".join(words[:end])


def answer_body(answer_text: str, short_answer: str | None = None) -> str:
    """The answer text (or a prefix of it while streaming) as HTML, the short answer in bold."""
    if short_answer and answer_text.startswith(short_answer):
        head, rest = answer_text[:len(short_answer)], answer_text[len(short_answer):]
        return f"<strong>{text(head)}</strong>{_markers(text(rest))}"
    return _markers(text(answer_text))


def answer_html(answer: Answer, asked: str | None = None, partial: str | None = None) -> str:
    """A chat message for `answer`: the text, then (once complete) its numbered sources.

    asked: what the user typed; when the question was rewritten with the conversation's
    context (answer.question differs), the rewritten form is shown so the reading is visible.
    """
    done = " final" if partial is None else ""  # the last update of a streamed answer
    if answer.refused:
        body = f'<div class="answer refused{done}">{text(answer.text)}</div>'
    else:
        shown = answer.text if partial is None else partial
        body = f'<div class="answer{done}">{answer_body(shown, answer.short_answer)}</div>'
    parts = [body]
    if partial is None:
        if answer.citations:
            items = "".join(f"<li>{citation_line(c)}</li>" for c in answer.citations)
            parts.append(f'<ol class="answer-sources">{items}</ol>')
            parts.append(f'<div class="answer-meta">confidence {float(answer.confidence):.2f}</div>')
        if asked is not None and " ".join(asked.split()) != answer.question:
            parts.append(f'<div class="answer-meta">read as: “{text(answer.question)}”</div>')
    return "".join(parts)


def citation_line(c: Citation) -> str:
    """`[1] Title (2021-09-14) — seeds/file.txt` as HTML."""
    return (f'<span class="cite-num">[{int(c.number)}]</span> <span class="cite-title">{text(c.title)}</span> '
            f'<span class="cite-date">({text(c.date or "undated")})</span> — <code>{text(c.source)}</code>')


def split_passage(c: Citation) -> tuple[str, str, str] | None:
    """(before, quote, after) of the quote inside its passage, or None when it cannot be found there."""
    start, end = c.quote_start - c.passage_start, c.quote_end - c.passage_start
    if 0 <= start <= end <= len(c.passage) and c.passage[start:end] == c.quote:
        return c.passage[:start], c.quote, c.passage[end:]
    found = c.passage.find(c.quote) if c.quote else -1
    if found < 0:
        return None
    return c.passage[:found], c.quote, c.passage[found + len(c.quote):]


def _link(url: str | None) -> str:
    """An http(s) URL as a link that opens elsewhere; anything else (javascript:, data:) as plain text."""
    if not url:
        return ""
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme in ("http", "https"):
        return f' · <a href="{text(url.strip())}" target="_blank" rel="noopener noreferrer nofollow">{text(url)}</a>'
    return f" · {text(url)}"


def source_html(c: Citation) -> str:
    """One cited passage: title, date, file, and the quoted sentence highlighted inside the passage."""
    pieces = split_passage(c)
    if pieces is None:
        passage = f"<mark>{text(c.quote)}</mark><br>{text(c.passage)}"
    else:
        before, quote, after = pieces
        passage = f"{text(before)}<mark>{text(quote)}</mark>{text(after)}"
    passage = passage.replace("\n\n", "<br><br>")
    return (f'<div class="source" data-number="{int(c.number)}">'
            f'<div class="source-head"><span class="cite-num">[{int(c.number)}]</span> <span class="source-title">{text(c.title)}</span></div>'
            f'<div class="source-meta"><span class="source-date">{text(c.date or "undated")}</span> · '
            f'<code class="source-file">{text(c.source)}</code>{_link(c.url)}</div>'
            f'<blockquote class="passage">{passage}</blockquote></div>')


def sources_html(answer: Answer | None) -> str:
    """The sources panel for `answer`."""
    if answer is None:
        return '<div class="sources-empty">Cited passages appear here.</div>'
    if not answer.citations:
        return '<div class="sources-empty">No passage answers this question, so nothing is cited.</div>'
    return "".join(source_html(c) for c in answer.citations)


def collection_html(info: dict[str, Any]) -> str:
    """The collection panel: articles, chunks, date range, embedding model."""
    first, last = info.get("first_date") or "-", info.get("last_date") or "-"
    rows = [("Articles", info.get("articles", 0)), ("Chunks", info.get("chunks", 0)),
            ("Dates", f"{first} to {last}"), ("Embedding model", info.get("embedding_model", "?"))]
    cells = "".join(f"<tr><th>{text(name)}</th><td>{text(value)}</td></tr>" for name, value in rows)
    return f'<table class="collection">{cells}</table>'


def timeline_html(timeline) -> str:
    """The timeline tab: one row per event, its date, the sentence and its sources."""
    if not timeline.events:
        return f'<div class="timeline empty">{text("No dated events about this topic were found in the articles.")}</div>'
    rows = []
    for event in timeline.events:
        cited = "; ".join(f"{text(c.title)} ({text(c.date or 'undated')}), {text(c.source)}" for c in event.citations)
        rows.append(f'<li><span class="when">{text(event.when)}</span> {text(event.text)}'
                    f'<div class="cited">{cited}</div></li>')
    return f'<ol class="timeline">{"".join(rows)}</ol>'


def user_html(question: str) -> str:
    return text(question)


def error_html(message: str) -> str:
    return f'<div class="answer error final">⚠ {text(message)}</div>'


def pending_html() -> str:
    return '<div class="answer pending">Searching the articles…</div>'


CSS = """
.answer.refused { font-style: italic; }
.answer.error { color: var(--error-text-color, #b91c1c); }
.answer.pending { opacity: 0.6; }
.answer-sources { margin: 0.6em 0 0 0; padding-left: 1.2em; font-size: 0.9em; list-style: none; }
.answer-sources li { margin: 0.15em 0; }
.answer-meta { font-size: 0.8em; opacity: 0.7; margin-top: 0.3em; }
.cite-ref { font-size: 0.75em; font-weight: 600; }
.cite-num { font-weight: 700; }
#sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6em 0.8em; margin-bottom: 0.7em; }
#sources .source-title { font-weight: 600; }
#sources .source-meta { font-size: 0.85em; opacity: 0.8; margin: 0.2em 0 0.4em 0; word-break: break-all; }
#sources blockquote.passage { margin: 0; padding-left: 0.7em; border-left: 3px solid var(--border-color-primary); font-size: 0.92em; line-height: 1.45; }
#sources mark { background: #fde68a; color: inherit; padding: 0 0.1em; }
#sources .sources-empty { opacity: 0.6; font-style: italic; }
#collection table.collection { font-size: 0.9em; width: 100%; border: none !important; margin: 0; }
#collection table.collection tr, #collection table.collection th, #collection table.collection td { border: none !important; padding: 0.15em 0.4em; background: none !important; }
#collection table.collection th { text-align: left; font-weight: 600; white-space: nowrap; width: 1%; }
#collection table.collection td { word-break: break-word; }
#collection button.example { justify-content: flex-start; text-align: left; }
"""
