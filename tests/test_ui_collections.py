"""Collections and uploads in the page, in a real Chromium: the picker sends questions to the picked collection;
files and a zipped folder dropped into the page are ingested into it, with a report that names the bad file and
why; create, rename and delete go through a confirmation step.

The store has two collections of made-up articles: `first` (the page's own: a bridge) and `second` (an orchard).
"""

from __future__ import annotations

import re
import zipfile

import pytest

from ui.app import launch

from conftest import free_port, write_folder
from test_collections import BRIDGE, COMET, ORCHARD
from test_ui_daily import ANSWER_TIMEOUT, wait_answer

FERRY = """Title: Ferry returns to Oban
date 2021-05-10

The ferry Hebridean Star returned to Oban on 9 May 2021 after repairs, the operator said.
"""
APPLES = "How many apples did the Calder orchard pick?"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from assistant import Assistant

    root = tmp_path_factory.mktemp("collections-page")
    with Assistant(data_dir=root / "data", collection="second") as second:
        second.ingest(write_folder(root / "second", {"orchard.txt": ORCHARD}))
    with Assistant(data_dir=root / "data", collection="first") as first:
        first.ingest(write_folder(root / "first", {"bridge.txt": BRIDGE}))
        yield first


@pytest.fixture(scope="module")
def served(store):
    demo, url = launch(store, port=free_port(), stream_delay=0)
    try:
        yield url
    finally:
        demo.close()



@pytest.fixture
def page(browser, served):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(served)
    expect(page.locator("#chat")).to_be_visible(timeout=60_000)
    expect(picker_input(page)).to_have_value(re.compile(r"^first · 1 article"), timeout=30_000)
    yield page
    context.close()


def picker_input(page):
    return page.locator("#collection-picker input")


def options(page, name: str):
    """The picker's option for collection `name` (its label: "NAME · N articles, M chunks")."""
    return page.locator(f'#collection-picker li[role="option"][aria-label^="{name} · "]')


def pick(page, name: str, label: re.Pattern | None = None) -> None:
    """Open the collection picker and choose `name` (whose option shows `label`, when given)."""
    from playwright.sync_api import expect

    picker_input(page).click()
    if label is not None:
        expect(options(page, name)).to_have_attribute("aria-label", label)
    options(page, name).click()
    expect(picker_input(page)).to_have_value(re.compile(rf"^{re.escape(name)} · "))
    expect(page.locator("#collection-status")).to_contain_text(f"Questions now go to the collection {name}")


def manage(page) -> None:
    """Open the "Create, rename or delete" accordion (once)."""
    name = page.locator("#collection-name")
    if not name.is_visible():
        page.locator("#manage-collections").get_by_text("Create, rename or delete a collection").click()
    name.wait_for(state="visible")


def ask(page, question: str, answers_before: int) -> str:
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    return wait_answer(page, answers_before)


def test_switching_collections_changes_where_questions_go(page):
    from playwright.sync_api import expect

    pick(page, "second", label=re.compile(r"^second · 1 article, \d+ chunks?$"))
    expect(page.locator("#collection-info")).to_contain_text("2020-10-12 to 2020-10-12")
    text = ask(page, APPLES, 0)
    answer = page.locator("#chat .answer.final").last
    assert "12,000" in text, text
    expect(answer.locator("xpath=..").locator(".answer-sources")).to_contain_text("second/orchard.txt")
    expect(page.locator("#sources")).to_contain_text("Calder orchard")

    pick(page, "first")  # the same question of the other collection: not answered from the orchard article
    text = ask(page, APPLES, 1)
    assert "12,000" not in text and "second/orchard.txt" not in page.locator("#chat .answer.final").last.inner_text(), (
        text
    )


def test_upload_of_a_folder_with_a_bad_file_reports_it(page, tmp_path, store):
    from playwright.sync_api import expect

    manage(page)
    page.fill("#collection-name input", "uploaded")
    page.locator("#collection-create").click()
    expect(page.locator("#collection-status")).to_contain_text("Created the collection uploaded", timeout=30_000)
    expect(picker_input(page)).to_have_value(re.compile(r"^uploaded · 0 articles"))
    assert "The collection uploaded holds no articles yet" in ask(page, APPLES, 0)

    archive = tmp_path / "reports.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("reports/comet.txt", COMET)
        zipped.writestr("reports/ferry.txt", FERRY)
        zipped.writestr("reports/broken.json", "{this is not json")
        zipped.writestr("../escape.txt", "outside")
    loose = write_folder(tmp_path / "loose", {"orchard.txt": ORCHARD})
    page.locator("#upload input[type=file]").set_input_files([str(archive), str(loose / "orchard.txt")])

    report = page.locator("#upload-report")
    expect(report.locator(".upload-summary")).to_contain_text("3 added", timeout=ANSWER_TIMEOUT)
    expect(report.locator(".upload-summary")).to_contain_text("2 rejected")
    expect(report.locator(".upload-added li")).to_have_count(3)
    expect(report.locator(".upload-added")).to_contain_text("uploads/reports/ferry.txt")
    rejected = report.locator(".upload-rejected li")
    expect(rejected).to_have_count(2)
    expect(rejected.filter(has_text="uploads/reports/broken.json")).to_contain_text(re.compile(r"JSON", re.I))
    expect(rejected.filter(has_text="../escape.txt")).to_contain_text("climbs out")
    expect(picker_input(page)).to_have_value(re.compile(r"^uploaded · 3 articles"))
    counts = {i.name: i.articles for i in store.collections()}
    assert counts["uploaded"] == 3 and counts["first"] == 1  # into the picked collection only

    text = ask(page, "When did the Hebridean Star return to Oban?", 1)  # and it answers from them
    assert "9 May 2021" in text or "May 2021" in text, text


def test_create_rename_delete_with_confirmation(page, store):
    from playwright.sync_api import expect

    manage(page)
    status, confirm = page.locator("#collection-status"), page.locator("#collection-confirm")
    page.fill("#collection-name input", "bad name!")
    page.locator("#collection-create").click()
    expect(status).to_contain_text("'bad name!' cannot name a collection; a name is 3 to 54 characters", timeout=30_000)

    page.fill("#collection-name input", "temp-one")
    page.locator("#collection-create").click()
    expect(status).to_contain_text("Created the collection temp-one", timeout=30_000)

    page.fill("#collection-name input", "temp-two")
    page.locator("#collection-rename").click()
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Rename the collection temp-one to temp-two?")
    page.locator("#collection-no").click()
    expect(confirm).to_be_hidden()
    expect(status).to_contain_text("Nothing was changed")
    assert "temp-one" in {i.name for i in store.collections()}

    page.locator("#collection-rename").click()
    page.locator("#collection-yes").click()
    expect(status).to_contain_text("Renamed the collection temp-one to temp-two", timeout=30_000)
    expect(picker_input(page)).to_have_value(re.compile(r"^temp-two · "))
    names = {i.name for i in store.collections()}
    assert "temp-two" in names and "temp-one" not in names

    page.locator("#collection-delete").click()
    expect(confirm).to_contain_text("Delete the collection temp-two and its 0 articles")
    page.locator("#collection-yes").click()
    expect(status).to_contain_text("Deleted the collection temp-two; questions go to first now", timeout=30_000)
    expect(picker_input(page)).to_have_value(re.compile(r"^first · "))
    assert "temp-two" not in {i.name for i in store.collections()}

    page.locator("#collection-delete").click()  # the page's own collection is not deleted from the page
    expect(status).to_contain_text("'first' is the collection the page was started with")
    expect(confirm).to_be_hidden()
