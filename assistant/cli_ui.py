"""`assistant ui`: the browser chat, on loopback by default, over the configured collection (or the seeds)."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.api import SEEDS_DIR
from assistant.cli_common import _assistant, user_errors
from assistant.core.errors import ConfigError
from assistant.core.extras import require
from assistant.core.net import is_loopback
from assistant.evaluation.questions import load_questions
from ui.guard import NO_LOGIN_REFUSED, auth_from_env

EXAMPLE_COUNT = 3


def example_questions(assistant, explicit: str | None = None, count: int = EXAMPLE_COUNT) -> list[str]:
    """The first `count` answerable questions of a question set: the one given, else the seeds' when the
    collection is the bundled seeds, else data_dir/questions.jsonl; [] when there is none."""
    path = Path(explicit) if explicit else None
    if path is not None and path.is_dir():
        path = path / "questions.jsonl"
    if path is None:
        candidates = [Path(assistant.settings.data_dir) / "questions.jsonl"]
        if _is_seed_collection(assistant):
            candidates.insert(0, SEEDS_DIR / "questions.jsonl")
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            return []
    questions = load_questions(path)  # a malformed file is a QuestionSetError with its line
    answerable = [q.question for q in questions if q.answerable] or [q.question for q in questions]
    return answerable[:count]


def _is_seed_collection(assistant) -> bool:
    records = assistant.store.source_records()
    return bool(records) and all(r.file.startswith("seeds/") for r in records.values())


@click.command("ui")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Any other than loopback needs ASSISTANT_UI_AUTH=user:password "
    "(or --insecure-no-login).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True, help="Port to listen on.")
@click.option(
    "--examples",
    "examples_path",
    type=click.Path(exists=True),
    help="A questions.jsonl (or a folder holding one) whose first 3 answerable questions are offered as examples. "
    "Default: the seeds' set for the bundled collection, else DATA_DIR/questions.jsonl.",
)
@click.option("--insecure-no-login", is_flag=True,
              help="Serve a --host other than loopback without a login (anyone who reaches it can use the chat).")
@click.option("--allow-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A host name the page may also be reached at, e.g. a reverse proxy's (a loopback server otherwise "
                   "answers only to loopback names). Repeatable.")
@click.pass_context
def ui_command(ctx, host, port, examples_path, insecure_no_login, allowed_hosts) -> None:
    """Chat with the collection in a browser (http://127.0.0.1:7860 by default).

    Set ASSISTANT_UI_AUTH=user:password to require a login; a --host other than loopback refuses to start without
    one unless --insecure-no-login is given. The default store gets the bundled seeds first when it is empty;
    another empty store is an error: run `assistant ingest PATH` first.
    """
    user_errors(_serve)(ctx, host, port, examples_path, insecure_no_login, allowed_hosts)


def _serve(ctx, host: str, port: int, examples_path: str | None, insecure_no_login: bool = False,
           allowed_hosts: tuple[str, ...] = ()) -> None:
    auth = auth_from_env()
    if not is_loopback(host) and auth is None:
        if not insecure_no_login:
            raise ConfigError(NO_LOGIN_REFUSED.format(host=host))  # before anything is opened or served
        click.secho(f"Warning: serving on {host} without a login (--insecure-no-login); anyone who can reach it can "
                    "ask questions. Set ASSISTANT_UI_AUTH=user:password to require one.", fg="yellow", err=True)
    require("gradio", "ui", "The chat page (assistant ui)")
    from ui.app import launch  # gradio: imported only once there is something to serve

    with _assistant(ctx) as assistant:
        click.echo(
            "Opening the collection (the default store, when empty, gets the bundled seed articles first)…", err=True
        )
        summary = assistant.ensure_collection()
        if summary is not None:
            click.echo(f"Ingested the bundled seeds: {summary.describe().splitlines()[0]}", err=True)
        stats = assistant.info()
        click.echo(
            f"{stats['articles']} articles, {stats['chunks']} chunks, {stats['first_date'] or '-'} to "
            f"{stats['last_date'] or '-'}.",
            err=True,
        )
        demo, url = launch(
            assistant,
            host=host,
            port=port,
            examples=example_questions(assistant, examples_path),
            auth=auth,
            insecure_no_login=insecure_no_login,
            allowed_hosts=allowed_hosts,
        )
        click.echo(f"Chat at {url}  (Ctrl+C to stop)")
        try:
            demo.block_thread()
        finally:
            demo.close()
