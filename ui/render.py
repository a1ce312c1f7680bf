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

from assistant.core.answer import Answer, Citation
from assistant.ranker.confidence import ConfidenceWords, describe

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


def answer_html(answer: Answer, asked: str | None = None, partial: str | None = None, index: int | None = None,
                confidence: ConfidenceWords | None = None, options: dict[str, Any] | None = None) -> str:
    """A chat message for `answer`: the text, then (once complete) its numbered sources.

    asked: what the user typed; when the question was rewritten with the conversation's
    context (answer.question differs), the rewritten form is shown so the reading is visible.
    index: the message's place in the chat; given, the message carries it as a class (msg-N) and gets its
    actions: a "sources" link (showing this answer's passages in the Sources panel) and a copy button
    (copying the answer as plain text with its citations).
    confidence: the confidence in words (assistant.ranker.confidence); without it, the words without validation figures.
    options: the filters the question was asked with, shown under the answer.
    """
    done = " final" if partial is None else ""  # the last update of a streamed answer
    key = f" msg-{int(index)}" if index is not None and partial is None else ""
    if answer.refused:
        body = f'<div class="answer refused{done}{key}">{text(answer.text)}</div>'
    else:
        shown = answer.text if partial is None else partial
        body = f'<div class="answer{done}{key}">{answer_body(shown, answer.short_answer)}</div>'
    parts = [body]
    if partial is None:
        meta = []
        if answer.citations:
            items = "".join(f"<li>{citation_line(c)}</li>" for c in answer.citations)
            parts.append(f'<ol class="answer-sources">{items}</ol>')
            words = confidence or describe(answer.confidence, None, answer.backend)
            meta.append(f'<span class="confidence conf-{text(words.word)}" title="{text(words.meaning)}">'
                        f'{text(words.word)} confidence</span>')
        if options:
            meta.append(f'<span class="filters-used">{text(filters_text(options))}</span>')
        if index is not None:
            if answer.citations:
                meta.append(
                    '<span class="show-sources" role="button" tabindex="0" title="Show the passages this answer '
                    'cites in the Sources panel">sources</span>'
                )
            meta.append('<button class="copy-answer" type="button" title="Copy the answer and its sources as text">'
                        'copy</button>')
        if meta:
            parts.append(f'<div class="answer-meta">{" · ".join(meta)}</div>')
        if asked is not None and " ".join(asked.split()) != answer.question:
            parts.append(f'<div class="answer-meta">read as: “{text(answer.question)}”</div>')
        if index is not None:
            parts.append(f'<pre class="answer-plain" hidden>{text(answer.to_text())}</pre>')
    return "".join(parts)


FILTER_NAMES = {"date_from": "from", "date_to": "to", "source": "source", "as_of": "as of"}


def filters_text(options: dict[str, Any]) -> str:
    """"from 2021-01-01 · source bbc/sport" for the filters that are set."""
    return " · ".join(f"{FILTER_NAMES.get(k, k)} {v}" for k, v in options.items() if v)


def filter_chips(options: dict[str, Any], problems: dict[str, str] | None = None) -> str:
    """The active filters as chips above the chat; a filter with a problem (a date that is not one) is marked."""
    problems = problems or {}
    chips = []
    for name, value in options.items():
        if not value:
            continue
        problem = problems.get(name)
        title = problem or f"Only articles with {FILTER_NAMES.get(name, name)} {value} are used"
        chips.append(
            f'<span class="chip{" invalid" if problem else ""}" title="{text(title)}">'
            f'{text(FILTER_NAMES.get(name, name))} <strong>{text(value)}</strong>{" ⚠" if problem else ""}</span>'
        )
    if not chips:
        return '<div class="filter-chips empty"></div>'
    return f'<div class="filter-chips"><span class="chips-label">Filters:</span> {" ".join(chips)}</div>'


def waiting_html(question: str) -> str:
    """A question typed while another is being answered: shown in the chat until its turn comes."""
    return (
        f'{text(question)} <span class="waiting-tag" title="Asked while another answer was being '
        f'written">waiting…</span>'
    )


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


def _quote_span(c: Citation) -> tuple[int, int] | None:
    """Where the quote of `c` is in its passage (characters), or None when it cannot be found there."""
    pieces = split_passage(c)
    if pieces is None:
        return None
    before, quote, _ = pieces
    return len(before), len(before) + len(quote)


def same_passages(citations: list[Citation]) -> list[list[Citation]]:
    """Citations grouped by the passage they quote, in order of first citation: a chunk quoted twice is shown once."""
    groups: dict[tuple, list[Citation]] = {}
    for c in citations:
        groups.setdefault((c.article_id, c.passage_start, c.passage_end, c.passage), []).append(c)
    return list(groups.values())


def _marked_passage(group: list[Citation]) -> str:
    """The passage with every quote of the group highlighted; overlapping quotes share one highlight."""
    passage = group[0].passage
    spans, lost = [], []
    for c in group:
        found = _quote_span(c)
        if found:
            spans.append((*found, c.number))
        else:
            lost.append(c)
    merged: list[list] = []
    for start, end, number in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(end, merged[-1][1])
            merged[-1][2].add(number)
        else:
            merged.append([start, end, {number}])
    pieces, position = [], 0
    for start, end, numbers in merged:
        classes = " ".join(f"cite-{int(n)}" for n in sorted(numbers))
        pieces += [text(passage[position:start]), f'<mark class="{classes}">{text(passage[start:end])}</mark>']
        position = end
    pieces.append(text(passage[position:]))
    shown = "".join(f'<mark class="cite-{int(c.number)}">{text(c.quote)}</mark><br>' for c in lost) + "".join(pieces)
    return shown.replace("\n\n", "<br><br>")


def source_html(c: Citation | list[Citation]) -> str:
    """One cited passage: title, date, file, and the quoted sentence(s) highlighted inside the passage.

    Given several citations of the same passage, it is shown once, with each citation's number and quote."""
    group = c if isinstance(c, list) else [c]
    first = group[0]
    numbers = " ".join(f'<span class="cite-num">[{int(g.number)}]</span>' for g in group)
    classes = " ".join(f"cite-{int(g.number)}" for g in group)
    return (f'<div class="source {classes}" data-numbers="{" ".join(str(int(g.number)) for g in group)}">'
            f'<div class="source-head">{numbers} <span class="source-title">{text(first.title)}</span></div>'
            f'<div class="source-meta"><span class="source-date">{text(first.date or "undated")}</span> · '
            f'<code class="source-file">{text(first.source)}</code>{_link(first.url)}</div>'
            f'<blockquote class="passage">{_marked_passage(group)}</blockquote></div>')


def sources_html(answer: Answer | None, index: int | None = None, asked: str | None = None) -> str:
    """The sources panel for `answer` (the answer at chat message `index`, to the question `asked`)."""
    if answer is None:
        return '<div class="sources-empty">Cited passages appear here.</div>'
    head = (
        f'<div class="sources-for">Sources of the answer to “{text(asked or answer.question)}”</div>'
        if index is not None
        else ""
    )
    if not answer.citations:
        body = '<div class="sources-empty">No passage answers this question, so nothing is cited.</div>'
    else:
        body = "".join(source_html(group) for group in same_passages(answer.citations))
    if index is None:
        return body
    return f'<div class="sources-of msg-{int(index)}">{head}{body}</div>'


def collection_html(info: dict[str, Any]) -> str:
    """The collection panel: articles, chunks, date range, embedding model."""
    first, last = info.get("first_date") or "-", info.get("last_date") or "-"
    rows = [("Articles", info.get("articles", 0)), ("Chunks", info.get("chunks", 0)),
            ("Dates", f"{first} to {last}"), ("Embedding model", info.get("embedding_model", "?"))]
    cells = "".join(f"<tr><th>{text(name)}</th><td>{text(value)}</td></tr>" for name, value in rows)
    return f'<table class="collection">{cells}</table>'


def upload_report_html(summary, collection: str) -> str:
    """What an upload did (an ingest.summary.IngestSummary): counts, then the files added, updated, duplicate,
    unchanged and rejected, each rejected one with the reason."""
    rejected = ([(source, reason) for source, reason in summary.failed] + list(summary.not_read)
                + [(source, "not an article file type") for source in summary.skipped])
    groups = [
        ("added", "Added", [(s, "") for s in summary.added]),
        ("updated", "Updated (changed since the last upload)", [(s, "") for s in summary.updated]),
        (
            "duplicates",
            "Duplicates (stored once)",
            [(s, f"same article as {original}") for s, original in summary.duplicates],
        ),
        ("unchanged", "Unchanged (stored already)", [(s, "") for s in summary.unchanged]),
        ("rejected", "Rejected", rejected),
        ("warnings", "Read, with warnings", list(summary.warnings)),
    ]
    counts = ", ".join(f"{len(rows)} {key}" for key, _, rows in groups[:5])
    parts = [f'<div class="upload-summary">Into <strong>{text(collection)}</strong>: {text(counts)} '
             f'({text(f"{summary.chunks_added} chunks in {summary.seconds:.1f} s")}).</div>']
    for key, title, rows in groups:
        if not rows:
            continue
        items = "".join(
            f'<li><code>{text(name)}</code>{": " + text(why) if why else ""}</li>' for name, why in rows[:200]
        )
        more = f"<li>… and {len(rows) - 200} more</li>" if len(rows) > 200 else ""
        shown = " open" if key == "rejected" or len(rows) <= 10 else ""  # long lists of good news fold away
        parts.append(f'<details class="upload-{key}"{shown}><summary class="upload-head">{text(title)} ({len(rows)})'
                     f'</summary><ul>{items}{more}</ul></details>')
    return f'<div class="upload-report">{"".join(parts)}</div>'


def timeline_html(timeline) -> str:
    """The timeline tab: one row per event, its date, the sentence and its sources."""
    if not timeline.events:
        return (
            f'<div class="timeline empty">{text("No dated events about this topic were found in the articles.")}</div>'
        )
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


def note_html(note: str) -> str:
    return f'<div class="note">{text(note)}</div>'


def pending_html() -> str:
    return '<div class="answer pending">Searching the articles…</div>'


# Colours: every text colour is set with its background in mind, for the light theme and for dark (Gradio puts
# `.dark` on <body> when the system prefers dark or the theme button asks for it); each pair is at least 4.5:1
# (WCAG AA), checked in the browser by tests/test_ui_daily.py. No text is dimmed with opacity.
CSS = """
:root { --na-meta: #4b5563; --na-mark-bg: #fde68a; --na-mark-fg: #1c1917; --na-cite: #1d4ed8; --na-flash: #b45309;
        --na-chip-bg: #e0e7ff; --na-chip-fg: #1e3a8a; --na-warn-bg: #fef3c7; --na-warn-fg: #78350f; --na-link: #1d4ed8;
        }
.dark { --na-meta: #d1d5db; --na-mark-bg: #713f12; --na-mark-fg: #fef9c3; --na-cite: #93c5fd; --na-flash: #fbbf24;
        --na-chip-bg: #1e3a8a; --na-chip-fg: #e0e7ff; --na-warn-bg: #78350f; --na-warn-fg: #fef3c7; --na-link: #93c5fd;
        }
.answer.refused { font-style: italic; }
.answer.error { color: var(--error-text-color, #b91c1c); }
.answer.pending { color: var(--na-meta); }
.answer-sources { margin: 0.6em 0 0 0; padding-left: 1.2em; font-size: 0.9em; list-style: none; }
.answer-sources li { margin: 0.15em 0; }
.answer-meta { font-size: 0.8em; color: var(--na-meta); margin-top: 0.3em; }
.answer-meta .confidence { cursor: help; text-decoration: underline dotted; }
.answer-meta .show-sources, .answer-meta .copy-answer { color: var(--na-link); cursor: pointer;
        text-decoration: underline;
        background: none; border: none; padding: 0; font: inherit; }
.answer-meta .copy-answer.copied::after { content: " ✓"; }
.answer-plain { display: none !important; }
.cite-ref { font-size: 0.75em; font-weight: 600; color: var(--na-cite); cursor: pointer; }
.cite-num { font-weight: 700; }
.waiting-tag { font-size: 0.8em; font-style: italic; margin-left: 0.4em; }
#filters .filter-chips { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; font-size: 0.85em; }
#filters .chips-label { color: var(--na-meta); }
#filters .chip { background: var(--na-chip-bg); color: var(--na-chip-fg); border-radius: 999px; padding: 0.1em 0.7em; }
#filters .chip.invalid { background: var(--na-warn-bg); color: var(--na-warn-fg); }
#sources .sources-for { font-size: 0.85em; color: var(--na-meta); margin-bottom: 0.5em; }
#sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6em 0.8em;
        margin-bottom: 0.7em; }
#sources .source.flash { animation: na-flash 1.6s ease-out 1; }
#sources mark.flash { outline: 3px solid var(--na-flash); outline-offset: 1px; }
@keyframes na-flash { 0%, 40% { box-shadow: 0 0 0 3px var(--na-flash); } 100% { box-shadow: 0 0 0 0 transparent; } }
#sources .source-title { font-weight: 600; }
#sources .source-meta { font-size: 0.85em; color: var(--na-meta); margin: 0.2em 0 0.4em 0; word-break: break-all; }
#sources blockquote.passage { margin: 0; padding-left: 0.7em; border-left: 3px solid var(--border-color-primary);
        font-size: 0.92em; line-height: 1.45; }
#sources mark { background: var(--na-mark-bg); color: var(--na-mark-fg); padding: 0 0.1em; border-radius: 2px; }
#sources .sources-empty { color: var(--na-meta); font-style: italic; }
#collection table.collection { font-size: 0.9em; width: 100%; border: none !important; margin: 0; }
#collection table.collection tr, #collection table.collection th, #collection table.collection td {
        border: none !important; padding: 0.15em 0.4em; background: none !important; }
#collection table.collection th { text-align: left; font-weight: 600; white-space: nowrap; width: 1%; }
#collection table.collection td { word-break: break-word; }
#collection button.example { justify-content: flex-start; text-align: left; }
#theme-toggle { max-width: 12em; margin-left: auto; }
#upload-report .upload-report { font-size: 0.88em; }
#upload-report .upload-head { font-weight: 600; margin-top: 0.4em; }
#upload-report ul { margin: 0.1em 0 0 1.1em; padding: 0; }
#upload-report code { word-break: break-all; }
#upload-report .upload-rejected .upload-head { color: var(--na-warn-fg); background: var(--na-warn-bg);
        padding: 0 0.3em; }
"""
