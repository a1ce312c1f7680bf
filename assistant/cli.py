"""The `assistant` command: ingest, ask, timeline, info, collections, eval, ui, settings, doctor.

Errors meant for users (AssistantError) print their message and exit 1; with
--debug, or anything unexpected under --debug, the traceback shows.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from assistant.backends import BUILTIN_BACKENDS
from assistant.cli_common import _assistant, user_errors
from assistant.cli_eval import eval_command
from assistant.cli_ui import ui_command
from assistant.core.answer import Answer
from assistant.core.errors import InputError
from assistant.core.settings import Settings
from assistant.doctor import describe, report
from assistant.text.timeframe import parse_day
from assistant.timeline import build_timeline


def _date(value: str | None) -> date | None:
    """A date option's value: a usage error when it is not a date."""
    try:
        return parse_day(value, "value")
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


# Options of the whole program; accepted after the command too ("assistant ui --data-dir DIR"), taking a value or not.
GLOBAL_OPTIONS = {"--data-dir": True, "--chroma-url": True, "--collection": True, "--config": True, "--log-level": True,
                  "--debug": False}


def hoist_global_options(args: list[str], commands: set[str]) -> list[str]:
    """Move global options that follow the command name in front of it, so click reads them as global."""
    at = next((i for i, a in enumerate(args) if a in commands), None)
    if at is None:
        return args
    front, rest, moved = args[:at], [], []
    tail = args[at:]
    i = 0
    while i < len(tail):
        arg = tail[i]
        if arg == "--":
            rest += tail[i:]
            break
        name = arg.split("=", 1)[0]
        if i > 0 and name in GLOBAL_OPTIONS:
            takes_value = GLOBAL_OPTIONS[name] and "=" not in arg
            moved += tail[i:i + (2 if takes_value else 1)]
            i += 2 if takes_value else 1
            continue
        rest.append(arg)
        i += 1
    return front + moved + rest


class _Program(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args), set(self.commands)))


@click.group(cls=_Program)
@click.option("--data-dir", envvar=None, help="Store directory (setting data_dir, env ASSISTANT_DATA_DIR).")
@click.option("--chroma-url", help="Use a Chroma server, e.g. http://127.0.0.1:8000 (setting chroma_url).")
@click.option(
    "--collection",
    help="The collection to ask or fill (setting collection, default 'articles'); see `assistant collections`.",
)
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="A TOML config file (env ASSISTANT_CONFIG)."
)
@click.option("--log-level", help="DEBUG, INFO, WARNING (setting log_level).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="news-assistant")
@click.pass_context
def main(ctx: click.Context, data_dir, chroma_url, collection, config_file, log_level, debug) -> None:
    """Ask questions of a news-article collection; answers cite the passages they rest on."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["overrides"] = {
        "data_dir": data_dir,
        "chroma_url": chroma_url,
        "collection": collection,
        "log_level": log_level,
    }
    ctx.obj["config_file"] = config_file


@main.command()
@click.argument("path", type=click.Path())
@click.option("--sync", is_flag=True, help="Also delete stored articles whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Drop the collection first (after changing model or chunker settings).")
@click.option(
    "--follow-symlinks",
    is_flag=True,
    help="Also read symbolic links that point outside PATH (setting follow_symlinks; off: they are listed, not read).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@user_errors
def ingest(ctx, path, sync, rebuild, follow_symlinks, as_json) -> None:
    """Ingest a folder (or file) of articles: .txt, .md, .html, .json, .jsonl."""
    with _assistant(ctx, follow_symlinks=follow_symlinks or None) as assistant:
        summary = assistant.ingest(path, sync=sync, rebuild=rebuild, progress=not as_json)
    click.echo(json.dumps(summary.to_dict(), indent=2) if as_json else summary.describe())


@main.command()
@click.argument("question")
@click.option("-k", type=click.IntRange(1, 100), help="Passages to retrieve (setting k).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole Answer as JSON.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
@click.option("--from", "date_from", help="Only articles dated on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Only articles dated on or before YYYY-MM-DD.")
@click.option("--source", help="Only articles whose source path starts with this (e.g. bbc/sport).")
@click.option(
    "--as-of", "as_of", help="The date of asking, YYYY-MM-DD: nothing newer is used; 'this week' means the week before."
)
@click.option("--backend", help=f"Answer backend: {', '.join(BUILTIN_BACKENDS)}, or one an installed package registers "
                               "(setting backend).")
@click.option("--base-url", help="LLM server URL, e.g. http://127.0.0.1:8080/v1 (setting llm_base_url).")
@click.option("--model", help="LLM model name (setting llm_model).")
@click.option("--stream", is_flag=True, help="Print the LLM's words as they come, then the checked answer.")
@click.pass_context
@user_errors
def ask(ctx, question, k, as_json, mode, date_from, date_to, source, as_of, backend, base_url, model, stream) -> None:
    """Answer QUESTION from the collection, with numbered sources.

    The default store (no --data-dir, data_dir or --chroma-url) gets the bundled seeds first when it is empty;
    another empty store is an error: run `assistant ingest PATH` first."""
    options = dict(mode=mode, date_from=_date(date_from), date_to=_date(date_to), source=source, as_of=_date(as_of))
    with _assistant(ctx, backend=backend, llm_base_url=base_url, llm_model=model) as assistant:
        assistant.ensure_collection()
        if stream and not as_json:
            answer = _stream_answer(assistant.ask_stream(question, k, **options))
        else:
            answer = assistant.ask(question, k, **options)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return
    if answer is not None:
        _print_answer(answer)


def _stream_answer(events):
    """Echo streamed pieces to stdout as they come; return the final Answer (printed afterwards when it differs)."""
    draft: list[str] = []
    for event in events:
        if isinstance(event, Answer):
            if not draft:
                return event
            click.echo("")
            if " ".join("".join(draft).split()) == " ".join(event.text.split()):
                _print_answer(event, text=False)
                return None
            click.secho("\nChecked against the passages:", bold=True)
            return event
        draft.append(event)
        click.echo(event, nl=False)
        sys.stdout.flush()
    return None


def _print_answer(answer, text: bool = True) -> None:
    if text:
        click.echo(answer.text)
    for c in answer.citations:
        click.echo(f"\n[{c.number}] {c.title} ({c.date or 'undated'}) — {c.source}")
        click.echo(f"    “{c.quote}”")
    if answer.unsupported:
        kept = any(sentence in answer.text for sentence in answer.unsupported)
        click.echo(f"\nNot supported by the passages it cites ({'kept above' if kept else 'left out'}):")
        for sentence in answer.unsupported:
            click.echo(f"  - {sentence}")
    if answer.backend.startswith("extractive (fallback"):
        click.echo(f"\n({answer.backend[len('extractive ('):-1]}; the extractive answer is shown.)")


@main.command()
@click.argument("topic")
@click.option("--from", "date_from", help="Only events on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Only events on or before YYYY-MM-DD.")
@click.option("--source", help="Only articles whose source path starts with this.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write it to FILE (.md or .json).")
@click.pass_context
@user_errors
def timeline(ctx, topic, date_from, date_to, source, as_json, out_file) -> None:
    """The dated events the articles report about TOPIC, in order, each cited."""
    with _assistant(ctx) as assistant:
        assistant.ensure_collection()
        result = build_timeline(assistant, topic, _date(date_from), _date(date_to), source)
    text = result.to_json() if as_json or (out_file and out_file.endswith(".json")) else result.to_markdown()
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_file} ({len(result.events)} events)")
    else:
        click.echo(text)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def info(ctx, as_json) -> None:
    """Articles, chunks, date range and embedding model of the collection."""
    with _assistant(ctx) as assistant:
        stats = assistant.info()
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(f"articles:  {stats['articles']} ({stats['duplicates']} duplicate files stored once)")
    click.echo(f"chunks:    {stats['chunks']}")
    if stats.get("unfinished_chunks"):
        click.echo(
            f"           (and {stats['unfinished_chunks']} chunks an interrupted ingest left unfinished: never used "
            "for answers; the next `assistant ingest` removes them)"
        )
    click.echo(f"dates:     {stats['first_date'] or '-'} to {stats['last_date'] or '-'}")
    click.echo(f"model:     {stats['embedding_model']} ({stats['embedding_dimension']} dimensions)")
    click.echo(f"chunker:   {stats['chunker']}")
    click.echo(f"store:     {stats['store']}")


@main.group("collections", invoke_without_command=True)
@click.pass_context
def collections_group(ctx) -> None:
    """List the store's collections (the default), or create, rename or delete one.

    Each collection has its own articles, chunks and dates; pick one for a command with --collection NAME."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_collections_command)


@collections_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@click.pass_context
@user_errors
def list_collections_command(ctx, as_json=False) -> None:
    """Every collection with its articles, chunks, date range and embedding model."""
    with _assistant(ctx) as assistant:
        infos = assistant.collections()
        current = assistant.settings.collection
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        return
    if not infos:
        click.echo(
            "No collections yet: `assistant ingest PATH` fills one (`articles` unless --collection NAME is given)."
        )
        return
    rows = [("", "name", "articles", "chunks", "dates", "embedding model")]
    rows += [("*" if i.name == current else "", i.name, str(i.articles), str(i.chunks),
              f"{i.first_date or '-'} to {i.last_date or '-'}", i.embedding_model) for i in infos]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    click.echo("(* the collection commands use now; pick another with --collection NAME)")


@collections_group.command("create")
@click.argument("name")
@click.pass_context
@user_errors
def create_collection_command(ctx, name) -> None:
    """Create an empty collection NAME (fill it with `assistant --collection NAME ingest PATH`)."""
    with _assistant(ctx) as assistant:
        assistant.create_collection(name)
    click.echo(f"created collection {name}; add articles with `assistant --collection {name} ingest PATH`")


@collections_group.command("rename")
@click.argument("old")
@click.argument("new")
@click.pass_context
@user_errors
def rename_collection_command(ctx, old, new) -> None:
    """Rename collection OLD to NEW; its articles, chunks and saved questions go with it."""
    with _assistant(ctx) as assistant:
        assistant.rename_collection(old, new)
    click.echo(f"renamed collection {old} to {new}")


@collections_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@user_errors
def delete_collection_command(ctx, name, yes) -> None:
    """Delete collection NAME with its articles and chunks (the article files themselves are not touched)."""
    with _assistant(ctx) as assistant:
        info = next((i for i in assistant.collections() if i.name == name), None)
        if info is None:
            assistant.delete_collection(name)  # says which collections there are
        assert info is not None  # delete_collection raised above
        if not yes:
            click.confirm(f"Delete collection {name} ({info.articles} articles, {info.chunks} chunks)? "
                          "This cannot be undone", abort=True, err=True)
        assistant.delete_collection(name)
    click.echo(f"deleted collection {name}")


@main.command("settings")
def show_settings() -> None:
    """Every setting, its default and what it does."""
    for name, default, help_text in Settings.documentation():
        click.echo(f"{name} (env ASSISTANT_{name.upper()}, default {default})\n    {help_text}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(as_json) -> None:
    """Installed versions of the packages that matter, and the known advisories the project guards against.

    The advisories come from a list kept in this repository (assistant/advisories.toml), not from an online audit.
    """
    data = report()
    click.echo(json.dumps(data, indent=2) if as_json else describe(data))


main.add_command(eval_command)
main.add_command(ui_command)

if __name__ == "__main__":  # python -m assistant.cli
    main()
