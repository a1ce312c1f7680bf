"""Time in the page, in a real Chromium on the dated test collection: the Timeline tab lists a story's dated events in
order with their sources and exports, and the As-of field keeps answers to what was published by then.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from ui.app import launch

from conftest import REPO, free_port
from test_ui_daily import ask, open_page

DATED = REPO / "tests" / "data" / "dated"
AS_OF = "2023-08-20"  # after the ferry's first article (16 August 2023), before every later one
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from assistant import Assistant

    with Assistant(data_dir=tmp_path_factory.mktemp("dated") / "data") as assistant:
        assistant.ingest(DATED)
        demo, url = launch(assistant, port=free_port(), examples=[], stream_delay=0.01)
        try:
            yield type("Served", (), {"url": url, "assistant": assistant})
        finally:
            demo.close()


@pytest.fixture(scope="module")
def page(browser, served):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        yield open_page(context, served)
    finally:
        context.close()


def test_the_timeline_tab_lists_a_storys_events_in_date_order_with_sources(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Timeline").click()
    page.fill("#timeline-topic textarea, #timeline-topic input", "Island Heron ferry refit")
    page.click("#timeline-show")
    events = page.locator("#timeline ol.timeline li")
    expect(events.first).to_be_visible(timeout=120_000)
    assert events.count() >= 3
    whens = events.locator(".when").all_inner_texts()
    days = [_first_day(w) for w in whens]
    known = [d for d in days if d]
    assert len(known) >= 3, whens
    assert known == sorted(known), whens  # in date order
    cited = events.locator(".cited").all_inner_texts()
    assert all(re.search(r"\(\d{4}-\d{2}-\d{2}\), \S+", c) for c in cited), cited  # title (date), file
    assert any("Island Heron" in c or "ferry" in c.lower() for c in cited), cited
    expect(page.locator("#timeline-md a, #timeline-md .file-preview").first).to_be_visible(timeout=30_000)


def test_the_as_of_field_shows_a_chip_and_answers_only_from_articles_published_by_then(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Chat").click()
    page.fill("#as-of textarea, #as-of input", AS_OF)
    page.locator("#as-of textarea, #as-of input").press("Tab")
    expect(page.locator("#filters")).to_contain_text(AS_OF, timeout=30_000)
    answers = page.locator("#chat .answer.final").count()
    text = ask(page, "When will the Island Heron be withdrawn for her annual refit?", answers)
    answer = page.locator("#chat .answer.final").last
    assert "refused" not in (answer.get_attribute("class") or ""), text
    cited = answer.locator("xpath=..").locator(".cite-date").all_inner_texts()
    assert cited, text
    for shown in cited:
        day = _first_day(shown)
        assert day is not None and day <= date.fromisoformat(AS_OF), cited  # nothing published later is used


def _first_day(text: str) -> date | None:
    """The first ISO date, 'D Month YYYY' or 'Month YYYY' (its first day) in `text`."""
    iso = re.search(r"\d{4}-\d{2}-\d{2}", text)
    if iso:
        return date.fromisoformat(iso.group())
    for pattern, form in ((r"\d{1,2} [A-Z][a-z]+ \d{4}", "%d %B %Y"), (r"[A-Z][a-z]+ \d{4}", "%B %Y")):
        found = re.search(pattern, text)
        if found:
            try:
                return datetime.strptime(found.group(), form).date()
            except ValueError:
                return None
    return None
