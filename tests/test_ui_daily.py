"""The page for daily use, in a real Chromium: filters, sources per answer, [n] flashing its passage, history that
survives a reload and a restart, Markdown export, feedback that becomes a question set, both themes readable.

The answer model may refuse while it is being replaced, so nothing here needs a live answer to be right: live
answers are checked for their structure (a citation list when not refused), and the behaviours that need cited
passages use a conversation stored the way the page stores one, its Answer built from passages the store
retrieves (tests/test_ui.py's collection: the seeds, a payload article and a distractor).

Writes docs/screenshot-light.png and docs/screenshot-dark.png.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.cli_ui import example_questions
from assistant.conversation import Turn
from assistant.core.answer import Answer, Citation
from assistant.evaluation.questions import load_questions
from assistant.history import History
from ui.app import launch

from conftest import free_port
from test_ui import LAVROV, SEED_TITLE, SEEDS_DIR, collection  # noqa: F401 (collection: a fixture)

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TIMEOUT = 180_000  # ms: the machine may be busy training a model
CRAFTED_TITLE = "Lavrov in Islamabad, Adams in Scotland (stored)"
GOLF_TITLE = "Adams wins the Highland Open after a week in Scotland"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


# ---- a server that can be restarted on the same port (the browser's storage is per origin) ----------------


class Served:
    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self.port = free_port()
        self.examples = example_questions(assistant, str(SEEDS_DIR / "questions.jsonl"))
        self.demo = None
        self.url = self.start()

    def start(self) -> str:
        self.demo, url = launch(self.assistant, port=self.port, examples=self.examples, stream_delay=0.05)
        return url

    def restart(self) -> None:
        self.demo.close()
        assert self.start() == self.url


@pytest.fixture(scope="module")
def served(collection):  # noqa: F811
    served = Served(collection)
    try:
        yield served
    finally:
        served.demo.close()



@pytest.fixture(scope="module")
def context(browser, served):
    """One browser profile (one localStorage, so one id in the history) for the module, its first question asked."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url.rstrip("/"))
    page = open_page(context, served)
    ask(page, LAVROV, 0)
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(context, served):
    """A new tab of the module's browser, once it has listed the browser's conversations and reopened the last one."""
    from playwright.sync_api import expect

    page = open_page(context, served)
    expect(page.locator("#history label").first).to_be_visible(timeout=30_000)
    yield page
    page.close()


@pytest.fixture(scope="module")
def history(collection) -> History:  # noqa: F811
    return History.in_data_dir(collection.settings.data_dir)


@pytest.fixture(scope="module")
def stored(collection, history, context):  # noqa: F811
    """A conversation of the module's browser, stored the way the page stores one: two answers built from passages
    the store retrieves; the first quotes one seed passage twice ([1], [2]) and the golf article once ([3])."""
    owner = _only_owner(history)
    first, second = crafted_answers(collection)
    conversation_id = history.start(owner, CRAFTED_TITLE)
    turn_ids = [history.add_turn(conversation_id, Turn(a.question, a.question, a)) for a in (first, second)]
    history.rename(conversation_id, owner, CRAFTED_TITLE)
    return {"id": conversation_id, "answers": (first, second), "turn_ids": turn_ids}


def _only_owner(history: History) -> str:
    with sqlite3.connect(history.path) as db:
        owners = [row[0] for row in db.execute("SELECT DISTINCT owner FROM conversations")]
    assert len(owners) == 1, owners
    return owners[0]


def crafted_answers(assistant) -> tuple[Answer, Answer]:
    seed = next(
        p for p in assistant.retrieve("Lavrov visited Islamabad in April", k=10) if "Lavrov visited Islamabad" in p.text
    )
    golf = next(p for p in assistant.retrieve("Rory Adams won the Highland Open", k=10) if "Highland Open" in p.text)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", seed.text) if len(s) > 30]
    lavrov = next(s for s in sentences if "Lavrov visited Islamabad" in s)
    other = next(s for s in sentences if s != lavrov)
    won = next(s for s in re.split(r"(?<=[.!?])\s+", golf.text) if "won the Highland Open" in s)

    def cite(number, passage, quote):
        at = passage.start + passage.text.index(quote)
        return Citation(number, passage.article_id, passage.source, passage.title, passage.date, passage.url, quote, at,
                        at + len(quote), passage.text, passage.start, passage.end)

    first = Answer(
        question="When did Lavrov visit Pakistan, and what else happened?",
        text=f"April 2021. {lavrov} [1] {other} [2] In golf, Rory Adams won the Highland Open [3].",
        short_answer="April 2021",
        citations=[cite(1, seed, lavrov), cite(2, seed, other), cite(3, golf, won)],
        confidence=0.93,
        kind="when",
    )
    second = Answer(question="Who won the Highland Open?", text=f"Nairn. {won} [1]", short_answer="Nairn",  # wrong
                    citations=[cite(1, golf, won)], confidence=0.62, kind="who")
    return first, second


# ---- page helpers ---------------------------------------------------------------------------------------------


def open_page(context, served):
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(served.url)
    expect(page.locator("#chat")).to_be_visible(timeout=60_000)
    page.wait_for_function("window.newsAssistant !== undefined")
    return page


def ask(page, question: str, answers_before: int) -> str:
    """Type `question`, press Enter, wait for its answer to finish; return the answer's text."""
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    return wait_answer(page, answers_before)


def wait_answer(page, answers_before: int) -> str:
    from playwright.sync_api import expect

    expect(page.locator("#chat .answer.final")).to_have_count(answers_before + 1, timeout=ANSWER_TIMEOUT)
    return page.locator("#chat .answer.final").last.inner_text()


def open_stored(page, title: str = CRAFTED_TITLE) -> None:
    from playwright.sync_api import expect

    page.locator("#history label", has_text=title).click()
    expect(page.locator("#chat .answer.final")).to_have_count(2, timeout=30_000)


def check_structure(page, index: int) -> None:
    """A live answer, right or not: refused, or with a citation list and sources in the panel."""
    from playwright.sync_api import expect

    answer = page.locator("#chat .answer.final").nth(index)
    if "refused" in (answer.get_attribute("class") or ""):
        return
    bubble = answer.locator("xpath=..")
    expect(bubble.locator(".answer-sources li").first).to_be_visible()
    expect(bubble.locator(".confidence")).to_have_text(re.compile(r"^(high|medium|low) confidence$"))
    expect(page.locator("#sources .source").first).to_be_visible()


# ---- 1. filters -----------------------------------------------------------------------------------------------


def test_a_date_filter_that_empties_the_result_says_why(page):
    from playwright.sync_api import expect

    before = page.locator("#chat .answer.final").count()
    page.fill("#date-from input, #date-from textarea", "2019-01-01")
    page.fill("#date-to input, #date-to textarea", "2019-12-31")
    chips = page.locator("#filters .chip")
    expect(chips).to_have_count(2)
    expect(chips.first).to_contain_text("from 2019-01-01")
    text = ask(page, LAVROV, before)
    assert "No article in this collection is dated 2019-01-01 to 2019-12-31" in text, text
    assert "2021-06-02 to 2021-09-14" in text  # and says what dates there are
    expect(page.locator("#chat .answer.final").last).to_have_class(re.compile("refused"))
    expect(page.locator("#chat .answer-meta .filters-used").last).to_contain_text("from 2019-01-01 · to 2019-12-31")

    page.fill("#date-to input, #date-to textarea", "2021-13-40")  # not a date: the chip says so before asking
    expect(page.locator("#filters .chip.invalid")).to_have_count(1)
    expect(page.locator("#filters .chip.invalid")).to_have_attribute("title", re.compile("YYYY-MM-DD"))
    page.fill("#date-from input, #date-from textarea", "")
    page.fill("#date-to input, #date-to textarea", "")
    page.fill("#source input, #source textarea", "sport")
    expect(chips).to_have_count(1)
    text = ask(page, LAVROV, before + 1)
    assert "No source matches 'sport'" in text, text


# ---- 2. sources per answer, [n], copy ---------------------------------------------------------------------------


def test_clicking_n_flashes_passage_n_and_a_passage_quoted_twice_is_shown_once(page, stored):
    from playwright.sync_api import expect

    open_stored(page)
    first = page.locator("#chat .answer.final").first
    panel = page.locator("#sources")
    first.locator(".cite-ref", has_text="[2]").click()
    passage = panel.locator(".source.cite-2")
    expect(passage).to_have_class(re.compile(r"\bflash\b"), timeout=10_000)
    expect(passage.locator("mark.cite-2")).to_have_class(re.compile(r"\bflash\b"))
    expect(passage.locator("mark.cite-1")).not_to_have_class(re.compile(r"\bflash\b"))
    # the seed passage, quoted by [1] and [2], appears once with both quotes highlighted
    expect(panel.locator(".source")).to_have_count(2)
    expect(passage).to_have_class(re.compile(r"\bcite-1\b.*\bcite-2\b"))
    expect(passage.locator("mark")).to_have_count(2)
    expect(passage.locator("mark.cite-1")).to_contain_text("Lavrov visited Islamabad")
    in_view = page.evaluate("""() => { const s = document.querySelector('#sources \
.source.cite-2').getBoundingClientRect();
        const box = document.querySelector('#sources .html-container') || document.querySelector('#sources');
        const b = box.getBoundingClientRect(); return s.bottom > b.top && s.top < b.bottom; }""")
    assert in_view

    first.locator(".cite-ref", has_text="[3]").click()
    expect(panel.locator(".source.cite-3")).to_have_class(re.compile(r"\bflash\b"), timeout=10_000)
    expect(panel.locator(".source.cite-3")).to_contain_text(GOLF_TITLE)

    # the copy button copies the answer's plain text with its citations
    first.locator("xpath=..").locator(".copy-answer").click()
    page.wait_for_function("document.querySelector('#chat .copy-answer.copied') !== null", timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("April 2021.") and f"[3] {GOLF_TITLE}" in copied and "“" in copied, copied
    # confidence in words, what it means on hover
    confidence = first.locator("xpath=..").locator(".confidence")
    expect(confidence).to_have_text("high confidence")
    expect(confidence).to_have_attribute("title", re.compile(r"high \(0\.93\): .* in 10"))


def test_clicking_an_earlier_answer_shows_its_sources(page, stored):
    from playwright.sync_api import expect

    open_stored(page)
    panel = page.locator("#sources")
    answers = page.locator("#chat .answer.final")
    expect(panel.locator(".sources-of.msg-3")).to_be_visible()  # opening shows the last answer's sources
    expect(panel.locator(".source")).to_have_count(1)
    answers.first.locator("xpath=..").locator(".show-sources").click()  # the "sources" link of the first answer
    expect(panel.locator(".sources-of.msg-1")).to_be_visible(timeout=10_000)
    expect(panel.locator(".source")).to_have_count(2)
    expect(panel).to_contain_text(SEED_TITLE)
    answers.last.click()  # a click anywhere on an answer
    expect(panel.locator(".sources-of.msg-3")).to_be_visible(timeout=10_000)
    expect(panel).not_to_contain_text(SEED_TITLE)

    # live answers keep their own sources too: each final answer is numbered by its place in the chat
    page.click("#clear")
    expect(page.locator("#chat .answer")).to_have_count(0)
    ask(page, LAVROV, 0)
    ask(page, "How many visitors did the Waitomo glowworm caves draw on their reopening day?", 1)
    for index in range(2):
        check_structure(page, index)
    answers.first.click()
    expect(panel.locator(".sources-of.msg-1")).to_be_visible(timeout=10_000)
    expect(panel.locator(".sources-for")).to_contain_text(LAVROV)


# ---- 6. waiting questions and a refused message --------------------------------------------------------------


def test_a_question_typed_during_an_answer_waits_and_a_refused_message_stays_in_the_box(page):
    from playwright.sync_api import expect

    page.click("#clear")
    expect(page.locator("#chat .answer")).to_have_count(0)
    page.fill("#question textarea", LAVROV)
    page.keyboard.press("Enter")
    expect(page.locator("#question textarea")).to_have_value("")  # taken: the box is free for the next question
    page.fill("#question textarea", "Who visited Islamabad?")
    page.keyboard.press("Enter")  # while the first is being answered
    second = page.locator('#chat [data-testid="user"]', has_text="Who visited Islamabad?")
    expect(second.locator(".waiting-tag")).to_be_visible(timeout=10_000)  # shown as waiting …
    wait_answer(page, 1)  # … and answered in its turn, after the first
    expect(page.locator("#chat .waiting-tag")).to_have_count(0)
    expect(page.locator('#chat [data-testid="user"]')).to_have_text([LAVROV, "Who visited Islamabad?"])

    too_long = "x" * 2500
    page.fill("#question textarea", too_long)
    page.keyboard.press("Enter")
    assert "limited to 2000 characters" in wait_answer(page, 2)
    assert page.input_value("#question textarea") == too_long  # kept, to be shortened


# ---- 3. history: reload, restart, rename, delete, export ---------------------------------------------------


def test_reload_and_restart_keep_the_conversation(page, served, history):
    from playwright.sync_api import expect

    page.click("#clear")
    expect(page.locator("#chat .answer")).to_have_count(0)
    question = "In which year did Pakistan's foreign and defense ministers visit Russia?"
    answer = ask(page, question, 0)
    title = page.locator("#history-title input, #history-title textarea")
    expect(title).to_have_value(question)  # saved: the same update tells the browser which conversation is open
    page.wait_for_timeout(500)
    page.reload()
    expect(page.locator('#chat [data-testid="user"]')).to_have_text([question], timeout=30_000)
    assert page.locator("#chat .answer.final").inner_text() == answer
    expect(page.locator("#history label", has_text=question)).to_be_visible()

    served.restart()
    page.reload()
    expect(page.locator('#chat [data-testid="user"]')).to_have_text([question], timeout=60_000)
    expect(title).to_have_value(question)

    title.fill("Ministers in Moscow")
    page.click("#history-rename")
    expect(page.locator("#history label", has_text="Ministers in Moscow")).to_be_visible()
    page.click("#history-delete")
    expect(page.locator("#chat .answer")).to_have_count(0)
    expect(page.locator("#history label", has_text="Ministers in Moscow")).to_have_count(0)
    assert "Ministers in Moscow" not in [c.title for c in history.conversations(_only_owner(history))]


def test_markdown_export_downloads_with_citations(page, stored):
    from playwright.sync_api import expect

    open_stored(page)
    page.click("#history-export")
    link = page.locator("#history-file a").first
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith(f"# {CRAFTED_TITLE}\n")
    assert "## 1. When did Lavrov visit Pakistan, and what else happened?" in text
    assert f"[3] {GOLF_TITLE} (2021-08-02) — `extra/golf.txt`" in text
    assert "> Russian Foreign Minister Sergey Lavrov visited Islamabad in April this year" in text


# ---- 4. feedback -> question set -> assistant eval --------------------------------------------------------


def test_feedback_is_stored_and_becomes_a_question_set_that_eval_runs(
    page, stored, history, collection, tmp_path  # noqa: F811 (collection: the fixture imported from test_ui)
):
    from playwright.sync_api import expect

    open_stored(page)
    buttons = page.locator("#chat .message-buttons")  # Gradio's thumbs, one row under each answer
    expect(buttons).to_have_count(2)
    buttons.first.locator('button[aria-label="Like"]').click()
    expect(page.locator("#feedback-note")).to_contain_text("marked right", timeout=10_000)
    buttons.last.locator('button[aria-label="Dislike"]').click()
    expect(page.locator("#feedback-note")).to_contain_text("marked wrong", timeout=10_000)
    page.fill("#correction textarea, #correction input", "Rory Adams")
    page.click("#save-correction")
    expect(page.locator("#feedback-note")).to_contain_text("Saved the correct answer", timeout=10_000)
    by_turn = {f.turn_id: f for f in history.feedback()}
    first_id, second_id = stored["turn_ids"]
    assert by_turn[first_id].rating == 1 and by_turn[first_id].correction is None
    assert by_turn[second_id].rating == -1 and by_turn[second_id].correction == "Rory Adams"

    data_dir = collection.settings.data_dir
    out = tmp_path / "feedback.jsonl"
    made = CliRunner().invoke(
        main, ["--data-dir", data_dir, "eval", "--from-feedback", str(out)], catch_exceptions=False
    )
    assert made.exit_code == 0, made.output
    assert f"to {out}" in made.output
    questions = {q.question: q for q in load_questions(out)}
    up = questions["When did Lavrov visit Pakistan, and what else happened?"]
    assert up.answers == ("April 2021",) and set(up.gold) == {"seeds/000_9e654aac1be06df7.txt", "extra/golf.txt"}
    down = questions["Who won the Highland Open?"]
    assert down.answers == ("Rory Adams",) and down.gold == ("extra/golf.txt",)  # the cited passage says it
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["rating"] for e in entries} <= {"up", "down"}

    ran = CliRunner().invoke(main, ["--data-dir", data_dir, "eval", str(out), "--quiet"], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    assert "accuracy" in ran.output and "hybrid" in ran.output


# ---- 5. both themes readable, screenshots ------------------------------------------------------------------

CONTRAST = """(selector) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, below) => top.slice(0, 3).map((v, i) => v * top[3] + below[i] * (1 - top[3])).concat([1]);
  const background = (el) => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let color = [255, 255, 255, 1];
    if (document.body.classList.contains('dark') && !layers.some(l => l[3] >= 1)) color = [11, 15, 25, 1];
    for (const layer of layers.reverse()) color = over(layer, color); return color; };
  const lum = (c) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const el = document.querySelector(selector); if (!el) return null;
  let opacity = 1; for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
  const bg = background(el);
  const fg = over(
    [...parse(getComputedStyle(el).color).slice(0, 3), parse(getComputedStyle(el).color)[3] * opacity], bg);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x); return (a + 0.05) / (b + 0.05);
}"""
READABLE = {
    "answer text": "#chat .answer.final",
    "highlighted quote": "#sources mark",
    "citation in the answer": "#chat .answer-sources li",
    "[n] marker": "#chat .cite-ref",
    "answer details": "#chat .answer-meta .confidence",
    "source file and date": "#sources .source-meta",
    "source title": "#sources .source-title",
    "filter chip": "#filters .chip",
}


def _contrasts(page) -> dict[str, float]:
    return {name: page.evaluate(CONTRAST, selector) for name, selector in READABLE.items()}


def test_both_themes_are_readable_and_the_toggle_switches(page, stored):
    from playwright.sync_api import expect

    open_stored(page)
    page.fill("#source input, #source textarea", "seeds")  # a chip to measure
    expect(page.locator("#filters .chip")).to_have_count(1)
    page.locator("#chat .answer.final").first.locator(".cite-ref", has_text="[1]").click()
    expect(page.locator("#sources .sources-of.msg-1")).to_be_visible(timeout=10_000)
    page.wait_for_timeout(2_800)  # the flash is over

    page.emulate_media(color_scheme="light")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bdark\b"))
    light = _contrasts(page)
    page.screenshot(path=str(ROOT / "docs" / "screenshot-light.png"), full_page=True)

    page.emulate_media(color_scheme="dark")  # the system's preference: Gradio puts .dark on <body>
    expect(page.locator("body")).to_have_class(re.compile(r"\bdark\b"))
    dark = _contrasts(page)
    page.screenshot(path=str(ROOT / "docs" / "screenshot-dark.png"), full_page=True)

    failing = {f"{theme} {name}": round(ratio or 0, 2) for theme, values in (("light", light), ("dark", dark))
               for name, ratio in values.items() if ratio is None or ratio < 4.5}
    assert not failing, f"below WCAG AA 4.5:1: {failing}\nlight={light}\ndark={dark}"
    mark_colours = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('#sources mark')); "
                                 "return [s.color, s.backgroundColor]; })()")
    assert mark_colours[0] != "rgb(255, 255, 255)", mark_colours  # no more white text on pale yellow

    page.click("#theme-toggle")  # the button: light again, remembered across a reload
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bdark\b"))
    assert page.evaluate("localStorage.getItem('news-assistant-theme')") == "light"
    page.emulate_media(color_scheme="light")
    page.click("#theme-toggle")
    expect(page.locator("body")).to_have_class(re.compile(r"\bdark\b"))
    page.reload()
    expect(page.locator("#chat")).to_be_visible(timeout=60_000)
    expect(page.locator("body")).to_have_class(re.compile(r"\bdark\b"), timeout=10_000)
    assert all(ratio >= 4.5 for ratio in _contrasts(page).values() if ratio is not None)
    page.evaluate("localStorage.removeItem('news-assistant-theme')")
