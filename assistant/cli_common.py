"""What the command line's modules share: user errors shown as messages, and the settings and Assistant a command
opens from the global options. cli.py, cli_eval.py and cli_ui.py import it (so they need not import each other)."""

from __future__ import annotations

import functools
import logging
import sys

import click

from assistant.api import Assistant
from assistant.core.errors import AssistantError
from assistant.core.settings import Settings


def _fail(message: str) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(1)


def user_errors(command):
    """Show AssistantError messages, not tracebacks; re-raise with --debug so bugs never hide."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return command(*args, **kwargs)
        except AssistantError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted")

    return wrapper


def _settings(ctx: click.Context) -> Settings:
    try:
        settings = Settings.load(ctx.obj["config_file"], **ctx.obj["overrides"])
    except AssistantError as exc:
        _fail(str(exc))
    level = getattr(logging, settings.log_level.upper(), logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(level)  # it sets itself to DEBUG on import, which the root handler would print
    return settings


def _assistant(ctx: click.Context, **overrides) -> Assistant:
    settings = _settings(ctx)
    return Assistant(settings=settings.replace(**overrides))
