"""The page's collections: the picker (which collection a tab's questions go to), create, rename and delete with a
confirmation step, and the upload box that ingests files or a zipped folder into the picked collection.

The work is the library's (assistant.storage.collections through Assistant, ingest.uploads); this module holds the
handlers and the components. Each tab picks its own collection (kept in its ui.session.ChatSession); one Assistant per
collection is opened on first use and shared by the tabs (AssistantPool), all on the page's one store.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

import gradio as gr

from assistant.api import Assistant
from assistant.core.errors import AssistantError, InputError
from assistant.core.naming import NAME_RULE, name_problem
from assistant.storage.collections import CollectionInfo, collection_names
from ingest.uploads import UPLOAD_TYPES, ingest_uploads
from ui import render
from ui.session import ChatSession

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong; the server log has the details."


class AssistantPool:
    """One Assistant per collection of the page's store: the page's own (`base`), and the others opened on first use."""

    def __init__(self, base: "Assistant") -> None:
        self.base = base
        self._others: dict[str, "Assistant"] = {}
        self._lock = threading.RLock()

    @property
    def default(self) -> str:
        """The collection the page was started with."""
        return self.base.settings.collection

    def get(self, name: str | None) -> "Assistant":
        """The Assistant of collection `name` (None: the page's own); InputError when there is no such collection."""
        name = name or self.default
        if name == self.default:
            return self.base
        with self._lock:
            if name not in self._others:
                if name not in collection_names(self.base._client()):
                    raise InputError(
                        f"The collection {name!r} is gone (renamed or deleted in another tab); pick another "
                        "one under Collection."
                    )
                self._others[name] = Assistant(settings=self.base.settings.replace(collection=name))
            return self._others[name]

    def infos(self) -> list[CollectionInfo]:
        infos = self.base.collections()
        if self.default not in {i.name for i in infos}:  # the page's own is made on first use; show it anyway
            self.base.store  # noqa: B018 (opening the store makes the collection)
            infos = self.base.collections()
        return infos

    def create(self, name: str) -> CollectionInfo:
        return self.base.create_collection(name)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            self._forget(old)
            self.base.rename_collection(old, new)  # the page's own, when renamed, is followed under its new name

    def delete_refused(self, name: str) -> str | None:
        """Why `name` cannot be deleted from the page, or None."""
        if name != self.default:
            return None
        return (f"{name!r} is the collection the page was started with, so it cannot be deleted here. Start the page "
                "with --collection OTHER, or stop it and run `assistant collections delete NAME`.")

    def delete(self, name: str) -> None:
        refused = self.delete_refused(name)
        if refused:
            raise InputError(refused)
        with self._lock:
            self._forget(name)
            self.base.delete_collection(name)

    def close(self) -> None:
        with self._lock:
            for name in list(self._others):
                self._forget(name)

    def _forget(self, name: str) -> None:
        assistant = self._others.pop(name, None)
        if assistant is not None:
            assistant.close()


class CollectionControls:
    """The event handlers of the collection panel."""

    def __init__(self, pool: AssistantPool) -> None:
        self.pool = pool

    def current(self, session: ChatSession) -> str:
        return session.collection or self.pool.default

    # ---- picker ---------------------------------------------------------------------------------------

    def refresh(self, session: ChatSession) -> tuple[Any, str]:
        """(picker, collection panel) as the store holds them now; a tab whose collection is gone falls back to the
        page's own."""
        infos = self.pool.infos()
        if self.current(session) not in {i.name for i in infos}:
            session.collection = None
        return self._picker(infos, self.current(session)), self._panel(infos, self.current(session))

    def choose(self, name: str | None, session: ChatSession) -> tuple[Any, str, str]:
        """The picker changed: this tab's questions go to `name` now. (picker, panel, status)"""
        infos = self.pool.infos()
        if not name or name not in {i.name for i in infos}:
            picker, panel = self.refresh(session)
            return picker, panel, render.error_html(f"There is no collection {name!r} any more; pick another.")
        session.collection = None if name == self.pool.default else name
        return gr.skip(), self._panel(infos, name), render.note_html(f"Questions now go to the collection {name}.")

    # ---- create, rename, delete (the last two after a confirmation) -------------------------------------------

    def create(self, name: str, session: ChatSession) -> tuple[Any, str, str, Any]:
        """(picker, panel, status, name box)"""
        name = (name or "").strip()
        try:
            self.pool.create(name)
        except AssistantError as exc:
            return gr.skip(), gr.skip(), render.error_html(str(exc)), gr.skip()
        session.collection = None if name == self.pool.default else name
        picker, panel = self.refresh(session)
        note = f"Created the collection {name}; questions and uploads now go to it. Add articles below."
        return picker, panel, render.note_html(note), ""

    def ask_rename(self, new: str, session: ChatSession) -> tuple[Any, str, str]:
        """Rename pressed: (confirm row, confirm text, status); nothing changes until it is confirmed."""
        old, new = self.current(session), (new or "").strip()
        problem = name_problem(new)
        if problem:
            return _hidden(), "", render.error_html(problem)
        if new == old:
            return _hidden(), "", render.error_html(f"The collection is called {old} already; type a new name.")
        session.pending = ("rename", old, new)
        return (
            gr.update(visible=True),
            render.note_html(
                f"Rename the collection {old} to {new}? Its articles, chunks and saved questions go with it."
            ),
            "",
        )

    def ask_delete(self, session: ChatSession) -> tuple[Any, str, str]:
        """Delete pressed: (confirm row, confirm text, status)."""
        name = self.current(session)
        info = next((i for i in self.pool.infos() if i.name == name), None)
        refused = self.pool.delete_refused(name)
        if refused:
            session.pending = None
            return _hidden(), "", render.error_html(refused)
        held = f" and its {info.articles} articles ({info.chunks} chunks)" if info else ""
        session.pending = ("delete", name, None)
        return gr.update(visible=True), render.note_html(f"Delete the collection {name}{held}? This cannot be undone; "
                                                         "the article files themselves are not touched."), ""

    def confirm(self, session: ChatSession) -> tuple[Any, str, str, Any, str]:
        """Yes pressed: do the pending rename or delete. (picker, panel, status, confirm row, confirm text)"""
        pending, session.pending = session.pending, None
        if pending is None:
            return gr.skip(), gr.skip(), gr.skip(), _hidden(), ""
        action, name, new = pending
        try:
            if action == "rename":
                self.pool.rename(name, cast(str, new))  # a pending rename holds the new name
                if self.current(session) == name:
                    session.collection = None if new == self.pool.default else new
                note = f"Renamed the collection {name} to {new}."
            else:
                self.pool.delete(name)
                if self.current(session) == name:
                    session.collection = None
                note = f"Deleted the collection {name}; questions go to {self.current(session)} now."
        except AssistantError as exc:
            return gr.skip(), gr.skip(), render.error_html(str(exc)), _hidden(), ""
        except Exception as exc:
            log.error("%s of collection %s failed", action, name, exc_info=exc)
            return gr.skip(), gr.skip(), render.error_html(UNEXPECTED), _hidden(), ""
        picker, panel = self.refresh(session)
        return picker, panel, render.note_html(note), _hidden(), ""

    def cancel(self, session: ChatSession) -> tuple[Any, str, str]:
        session.pending = None
        return _hidden(), "", render.note_html("Nothing was changed.")

    # ---- upload ---------------------------------------------------------------------------------------

    def upload(
        self,
        files: list[Any] | None,
        session: ChatSession,
        progress=gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
    ) -> tuple[str, Any, Any, str]:
        """Ingest the dropped files into this tab's collection: (report, file box, picker, panel)."""
        paths = [f if isinstance(f, str) else getattr(f, "path", "") or getattr(f, "name", "") for f in files or []]
        if not paths:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        name = self.current(session)
        progress(0, desc=f"Adding {len(paths)} upload{'s' if len(paths) != 1 else ''} to {name}…")

        def step(number: int, total: int, source: str) -> None:
            progress((number, total), desc=f"Reading {source}", unit="files")

        try:
            summary = ingest_uploads(self.pool.get(name), paths, progress=step)
        except AssistantError as exc:
            return render.error_html(str(exc)), None, gr.skip(), gr.skip()
        except Exception as exc:
            log.error("ingesting an upload into %s failed", name, exc_info=exc)
            return render.error_html(UNEXPECTED), None, gr.skip(), gr.skip()
        picker, panel = self.refresh(session)
        return render.upload_report_html(summary, name), None, picker, panel

    # ---- helpers --------------------------------------------------------------------------------------

    @staticmethod
    def _picker(infos: list[CollectionInfo], current: str) -> Any:
        return gr.update(choices=[(i.label(), i.name) for i in infos], value=current)

    @staticmethod
    def _panel(infos: list[CollectionInfo], current: str) -> str:
        info = next((i for i in infos if i.name == current), None)
        return render.collection_html(info.to_dict() if info else {})


def _hidden() -> Any:
    return gr.update(visible=False)


def collection_panel(infos: list[CollectionInfo], current: str) -> dict[str, Any]:
    """The components: picker, its numbers, the upload box and its report, the manage controls."""
    picker = gr.Dropdown(choices=[(i.label(), i.name) for i in infos], value=current, label="Collection",
                         elem_id="collection-picker", interactive=True, filterable=False,
                         info="Questions and uploads go to this collection.")
    info = next((i for i in infos if i.name == current), None)
    panel = gr.HTML(render.collection_html(info.to_dict() if info else {}), js_on_load=None, elem_id="collection-info")
    files = gr.File(
        file_count="multiple",
        file_types=list(UPLOAD_TYPES),
        label="Add articles: drop files or a .zip of a folder",
        elem_id="upload",
        height=120,
    )
    report = gr.HTML(elem_id="upload-report", js_on_load=None)
    with gr.Accordion("Create, rename or delete a collection", open=False, elem_id="manage-collections"):
        name = gr.Textbox(label="Name", elem_id="collection-name", max_lines=1, placeholder="e.g. sport-2021",
                          info=f"A name is {NAME_RULE}.")
        with gr.Row():
            create = gr.Button("Create", size="sm", elem_id="collection-create")
            rename = gr.Button("Rename picked to this", size="sm", elem_id="collection-rename")
            delete = gr.Button("Delete picked", size="sm", variant="stop", elem_id="collection-delete")
        with gr.Column(visible=False, elem_id="collection-confirm") as confirm_row:
            confirm_text = gr.HTML(js_on_load=None, elem_id="collection-confirm-text")
            with gr.Row():
                yes = gr.Button("Yes, do it", size="sm", variant="stop", elem_id="collection-yes")
                no = gr.Button("Cancel", size="sm", elem_id="collection-no")
    status = gr.HTML(js_on_load=None, elem_id="collection-status")  # outside the accordion: the picker's notes show too
    return {"picker": picker, "panel": panel, "files": files, "report": report, "name": name, "create": create,
            "rename": rename, "delete": delete, "confirm_row": confirm_row, "confirm_text": confirm_text, "yes": yes,
            "no": no, "status": status}


def wire_collections(controls: CollectionControls, ui: dict[str, Any], session: gr.State, demo: gr.Blocks) -> None:
    at_once: dict[str, Any] = {"queue": False, "show_progress": "hidden", "api_visibility": "private"}
    # Changing the store waits its turn with the answers (one at a time): nothing is renamed under a running answer.
    in_turn = {"concurrency_id": "answer", "show_progress": "hidden", "api_visibility": "private"}
    picker, panel, status = ui["picker"], ui["panel"], ui["status"]
    demo.load(controls.refresh, [session], [picker, panel], **at_once)
    picker.input(controls.choose, [picker, session], [picker, panel, status], **at_once)
    ui["create"].click(controls.create, [ui["name"], session], [picker, panel, status, ui["name"]], **in_turn)
    ui["name"].submit(controls.create, [ui["name"], session], [picker, panel, status, ui["name"]], **in_turn)
    confirm = [ui["confirm_row"], ui["confirm_text"], status]
    ui["rename"].click(controls.ask_rename, [ui["name"], session], confirm, **at_once)
    ui["delete"].click(controls.ask_delete, [session], confirm, **at_once)
    ui["no"].click(controls.cancel, [session], confirm, **at_once)
    ui["yes"].click(
        controls.confirm, [session], [picker, panel, status, ui["confirm_row"], ui["confirm_text"]], **in_turn
    )
    ui["files"].upload(controls.upload, [ui["files"], session], [ui["report"], ui["files"], picker, panel],
                       concurrency_id="answer", show_progress="full", show_progress_on=[ui["report"]],
                       api_visibility="private")
