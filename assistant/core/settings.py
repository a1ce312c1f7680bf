"""One Settings object: defaults, then a config file, then ASSISTANT_* variables, then explicit overrides.

Every default is documented once, here, in the field's comment. The README's
settings table is generated from the same place (`assistant settings`).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.errors import ConfigError
from assistant.core.naming import check_name

ENV_PREFIX = "ASSISTANT_"
CONFIG_ENV = "ASSISTANT_CONFIG"


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return os.path.join(base, "news-assistant")


@dataclass
class Settings:
    """All settings of the assistant. Each field's help text is its documentation."""

    data_dir: str = field(
        default_factory=_default_data_dir,
        metadata={
            "help": "Where the embedded Chroma store and the BM25 index live ($XDG_DATA_HOME/news-assistant, else "
                    "~/.local/share/news-assistant)."
        },
    )
    collection: str = field(
        default="articles",
        metadata={
            "help": "The collection questions go to and files are ingested into (`--collection NAME`; list them with "
                    "`assistant collections`). Its chunks are the Chroma collection NAME; its source records are kept "
                    "in catalogue.sqlite3 in data_dir (with chroma_url: in the Chroma collection NAME__sources)."
        },
    )
    chroma_url: str | None = field(
        default=None,
        metadata={
            "help": "URL of a Chroma server (e.g. http://127.0.0.1:8000); unset means the embedded store in data_dir."
        },
    )
    allow_remote_chroma: bool = field(
        default=False,
        metadata={"help": "Allow a chroma_url that is not on loopback (the Chroma server has no authentication)."},
    )
    embed_batch_size: int = field(default=64, metadata={"help": "Chunks embedded per batch."})
    chunk_tokens: int = field(
        default=160,
        metadata={
            "help": "Target chunk size in cl100k tokens (every chunk also fits the embedding model's 256 word pieces)."
        },
    )
    chunk_overlap_tokens: int = field(
        default=40, metadata={"help": "Sentences carried over between neighbouring chunks, up to this many tokens."}
    )
    max_file_bytes: int = field(
        default=5_000_000, metadata={"help": "Files larger than this are skipped and reported."}
    )
    follow_symlinks: bool = field(
        default=False,
        metadata={
            "help": "Follow symbolic links (to files or folders) that point outside the folder being ingested. Off: "
                    "such links are not read, and each is listed in the ingest summary."
        },
    )
    file_time_budget_seconds: float = field(
        default=60.0,
        metadata={
            "help": "Most seconds one file may take to read, parse, chunk and embed; a file still going then is "
                    "skipped and reported, and the run goes on. 0 means no limit."
        },
    )
    exclude: tuple[str, ...] = field(
        default=("README*", "LICENSE*", "questions.jsonl", "questions.yaml"),
        metadata={"help": "File-name patterns skipped when ingesting a folder (hidden files are always skipped)."},
    )
    k: int = field(default=8, metadata={"help": "Passages retrieved per question."})
    backend: str = field(
        default="verified",
        metadata={
            "help": "Answer backend: verified (the sentence ranker checked by the span reader), extractive, reader, "
                    "openai, ollama, llamacpp, overlap, or one an installed package registers (entry-point group "
                    "news_assistant.backends)."
        },
    )
    min_confidence: float | None = field(
        default=None,
        metadata={
            "help": "The answerer refuses below this confidence; unset means 0.3 for the sentence ranker (backends "
                    "verified and extractive, chosen on BBC questions) and the threshold chosen on the span reader's "
                    "validation split for backend reader (stored with its model; backend verified always checks with "
                    "it). Higher: more refusals of both kinds."
        },
    )
    llm_base_url: str | None = field(
        default=None,
        metadata={
            "help": "LLM server: an OpenAI-compatible base URL for the openai backend (e.g. http://127.0.0.1:8080/v1; "
                    "unset means api.openai.com), the Ollama URL for ollama (unset: http://127.0.0.1:11434)."
        },
    )
    llm_model: str | None = field(
        default=None,
        metadata={
            "help": "Model name for the openai and ollama backends; for openai, unset means the first model the server "
                    "lists."
        },
    )
    llm_api_key_env: str = field(
        default="OPENAI_API_KEY",
        metadata={
            "help": "Name of the environment variable holding the API key of the openai backend (the key itself is "
                    "never a setting)."
        },
    )
    llm_model_path: str | None = field(
        default=None, metadata={"help": "GGUF model file of the llamacpp backend (llama-cpp-python, in process)."}
    )
    llm_context_tokens: int = field(
        default=2048,
        metadata={
            "help": "The LLM's context window in tokens: prompt and passages are packed to fit it, minus "
                    "llm_answer_tokens."
        },
    )
    llm_answer_tokens: int = field(
        default=256, metadata={"help": "Most tokens the LLM may write per answer; kept free in the window."}
    )
    llm_token_margin: float = field(
        default=0.25,
        metadata={
            "help": "Passages are counted in cl100k tokens; the model's tokenizer may count this share more, so it is "
                    "kept free."
        },
    )
    llm_temperature: float = field(
        default=0.0, metadata={"help": "Sampling temperature of the LLM (0 = most likely words)."}
    )
    llm_connect_timeout: float = field(
        default=3.0,
        metadata={
            "help": "Seconds to wait for a connection to the LLM server; there are no retries, so an unreachable "
                    "server fails fast."
        },
    )
    llm_timeout: float = field(
        default=120.0,
        metadata={"help": "Seconds to wait for the LLM server's reply (between streamed pieces when streaming)."},
    )
    llm_unsupported: str = field(
        default="remove",
        metadata={
            "help": "What to do with an answer sentence its cited passages do not support: remove it, or mark (keep "
                    "it, listed under unsupported and marked in the UI). Either way it is listed in Answer.unsupported."
        },
    )
    llm_no_support: str = field(
        default="extractive",
        metadata={
            "help": "When no sentence of the LLM's answer is supported by a passage it validly cites: extractive "
                    "(answer with the extractive answerer) or refuse."
        },
    )
    llm_error_fallback: bool = field(
        default=False,
        metadata={
            "help": "When the LLM server fails or cannot be reached, answer with the extractive answerer instead of "
                    "reporting the error."
        },
    )
    llm_min_support: float = field(
        default=0.5,
        metadata={
            "help": "Least cosine similarity (embedding model) between an answer sentence and a sentence of a passage "
                    "it cites, besides its names, numbers and dates appearing there."
        },
    )
    llm_attribute: bool = field(
        default=False,
        metadata={
            "help": "Give a sentence the LLM left uncited the passage that supports it, when one passes every check "
                    "(small models rarely cite)."
        },
    )
    llm_prompts_dir: str | None = field(
        default=None,
        metadata={
            "help": "A folder of prompt files (system.txt, answer.txt, passage.txt, condense.txt) replacing the "
                    "bundled prompts/."
        },
    )
    log_level: str = field(default="WARNING", metadata={"help": "Logging level of the CLI and UI."})

    @classmethod
    def load(cls, config_file: str | os.PathLike | None = None, **overrides: Any) -> "Settings":
        """Build settings from defaults, a config file, the environment, then `overrides` (None values ignored)."""
        values: dict[str, Any] = {}
        path = config_file or os.environ.get(CONFIG_ENV)
        if path:
            values.update(_read_config_file(Path(path)))
        values.update(_read_env())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "Settings":
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(unknown)}. Known settings: {', '.join(known)}.")
        converted = {name: _convert(known[name], value) for name, value in values.items()}
        settings = cls(**converted)
        settings.data_dir = os.path.abspath(os.path.expanduser(settings.data_dir))
        settings.validate()
        return settings

    def validate(self) -> None:
        check_name(self.collection, ConfigError)
        if self.k < 1:
            raise ConfigError(f"k must be at least 1, got {self.k}.")
        if not 16 <= self.chunk_tokens <= 240:
            raise ConfigError(f"chunk_tokens must be between 16 and 240, got {self.chunk_tokens}.")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens:
            raise ConfigError("chunk_overlap_tokens must be at least 0 and below chunk_tokens.")
        if self.file_time_budget_seconds < 0:
            raise ConfigError(
                f"file_time_budget_seconds must be 0 (no limit) or more, got {self.file_time_budget_seconds}."
            )
        if self.embed_batch_size < 1:
            raise ConfigError("embed_batch_size must be at least 1.")
        if self.llm_unsupported not in ("remove", "mark"):
            raise ConfigError(f"llm_unsupported must be remove or mark, got {self.llm_unsupported!r}.")
        if self.llm_no_support not in ("extractive", "refuse"):
            raise ConfigError(f"llm_no_support must be extractive or refuse, got {self.llm_no_support!r}.")
        if self.llm_answer_tokens < 16 or self.llm_context_tokens < self.llm_answer_tokens + 128:
            raise ConfigError(
                "llm_answer_tokens must be at least 16, and llm_context_tokens at least llm_answer_tokens + 128."
            )
        if self.llm_connect_timeout <= 0 or self.llm_timeout <= 0:
            raise ConfigError("llm_connect_timeout and llm_timeout must be positive.")
        if not 0 <= self.llm_token_margin <= 2:
            raise ConfigError(f"llm_token_margin must be between 0 and 2, got {self.llm_token_margin}.")

    def is_default_store(self) -> bool:
        """True for the default store: data_dir is the default one (none given by config, ASSISTANT_DATA_DIR or
        --data-dir, or the default given by hand) and no Chroma server is set. Only this store gets the bundled
        seeds when it is empty; a store the user named is never filled with them."""
        if self.chroma_url:
            return False
        return os.path.realpath(self.data_dir) == os.path.realpath(_default_data_dir())

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some fields changed (None values ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def documentation(cls) -> list[tuple[str, str, str]]:
        """(name, default, help) for every setting, for docs and `assistant settings`."""
        rows = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else "(see help)"
            rows.append((f.name, repr(default), f.metadata.get("help", "")))
        return rows


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"Config file {path} does not exist; create it or unset {CONFIG_ENV}.")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from None
    return data.get("assistant", data)


def _read_env() -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(Settings)}
    values = {}
    for key, value in os.environ.items():
        if key.startswith(ENV_PREFIX) and key != CONFIG_ENV:
            name = key[len(ENV_PREFIX):].lower()
            if name in names:
                values[name] = value
    return values


def _convert(f: dataclasses.Field, value: Any) -> Any:
    """Turn strings from the environment into the field's type; reject wrong types with a clear message."""
    kind = str(f.type)
    if "| None" in kind and value in (None, ""):
        return None
    try:
        if kind.startswith("bool"):
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(value)
                return lowered in {"1", "true", "yes", "on"}
            return bool(value)
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("tuple"):
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            return tuple(value)
        if value is None or kind.startswith("str | None"):
            return None if value in (None, "") else str(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Setting {f.name} has an invalid value {value!r} (expected {kind}).") from None
