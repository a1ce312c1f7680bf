"""LangChain chat models for the LLM backends, chosen by name, and the errors they raise made readable.

    openai    any OpenAI-compatible endpoint (llama.cpp server, vLLM, Ollama's /v1, LM Studio, OpenAI):
              llm_base_url, llm_model (asked of the server when unset), the API key from the
              environment variable named by llm_api_key_env          extra: news-assistant[openai]
    ollama    an Ollama server: llm_base_url (default http://127.0.0.1:11434), llm_model
                                                                     extra: news-assistant[ollama]
    llamacpp  a local GGUF file in process: llm_model_path             extra: news-assistant[llamacpp]

Connections fail fast: a short connect timeout (llm_connect_timeout) and no retries, so an
unreachable server is a BackendError within seconds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from assistant.core.errors import BackendError, ConfigError
from assistant.core.extras import require as require_extra
from assistant.core.settings import Settings

log = logging.getLogger(__name__)

OLLAMA_URL = "http://127.0.0.1:11434"
PLACEHOLDER_KEY = "not-needed"  # local OpenAI-compatible servers want some key and ignore it


@dataclass(frozen=True)
class BackendSpec:
    name: str
    modules: tuple[str, ...]  # imported to check the extra is installed
    extra: str
    build: Callable[[Settings], object]


def require(spec: BackendSpec) -> None:
    """Raise BackendError naming the extra to install when a module of the backend is missing."""
    for module in spec.modules:
        require_extra(module, spec.extra, f"The {spec.name} backend")


def chat_model(name: str, settings: Settings):
    """The LangChain chat model of backend `name`, configured from settings (connects lazily, except to name the
    model)."""
    spec = SPECS[name]
    require(spec)
    return spec.build(settings)


def endpoint(name: str, settings: Settings) -> str:
    """Where backend `name` sends requests, for messages."""
    if name == "openai":
        return settings.llm_base_url or "https://api.openai.com/v1"
    if name == "ollama":
        return settings.llm_base_url or OLLAMA_URL
    return settings.llm_model_path or "(no llm_model_path)"


# ---- builders ---------------------------------------------------------------------------------------


def _timeout(settings: Settings, timeout_class):
    """A connect timeout of seconds and a read timeout of minutes, in the HTTP library of the client (openai has its
    own)."""
    return timeout_class(settings.llm_timeout, connect=settings.llm_connect_timeout)


def _openai(settings: Settings):
    import openai  # the openai extra: imported only for this backend
    from langchain_openai.chat_models.base import BaseChatOpenAI
    from pydantic import SecretStr  # the key's type in BaseChatOpenAI (it would convert a str itself)

    key = os.environ.get(settings.llm_api_key_env or "", "")
    if not settings.llm_base_url and not key:
        raise ConfigError(
            f"The openai backend needs llm_base_url (an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1) "
            f"or an API key in ${settings.llm_api_key_env} for api.openai.com."
        )
    model = settings.llm_model or _served_model(settings, key)
    # BaseChatOpenAI, not ChatOpenAI: it sends the classic `max_tokens`, which every OpenAI-compatible server
    # understands (ChatOpenAI renames it to `max_completion_tokens`, which llama.cpp's server ignores).
    return BaseChatOpenAI(
        model=model,
        base_url=settings.llm_base_url,
        api_key=SecretStr(key or PLACEHOLDER_KEY),
        timeout=_timeout(settings, openai.Timeout),
        max_retries=0,
        max_tokens=settings.llm_answer_tokens,
        temperature=settings.llm_temperature,
    )


def _served_model(settings: Settings, key: str) -> str:
    """The first model the server lists (a llama.cpp or vLLM server serves one), when llm_model is unset."""
    import openai

    client = openai.OpenAI(
        base_url=settings.llm_base_url,
        api_key=key or PLACEHOLDER_KEY,
        timeout=_timeout(settings, openai.Timeout),
        max_retries=0,
    )
    try:
        models = [m.id for m in client.models.list()]
    except Exception as exc:
        error = backend_error(exc, "openai", endpoint("openai", settings))
        if error is None:
            raise
        raise error from None
    finally:
        client.close()
    if not models:
        raise ConfigError(f"The server at {settings.llm_base_url} lists no model; set llm_model.")
    log.info("llm_model unset: using %s, the first model served at %s", models[0], settings.llm_base_url)
    return models[0]


def _ollama(settings: Settings):
    import httpx  # the ollama extra: imported only for this backend
    from langchain_ollama import ChatOllama

    if not settings.llm_model:
        raise ConfigError(
            "The ollama backend needs llm_model, the name of a model the Ollama server has pulled (e.g. llama3.2)."
        )
    return ChatOllama(
        model=settings.llm_model,
        base_url=settings.llm_base_url or OLLAMA_URL,
        num_ctx=settings.llm_context_tokens,
        num_predict=settings.llm_answer_tokens,
        temperature=settings.llm_temperature,
        client_kwargs={"timeout": _timeout(settings, httpx.Timeout)},
    )


def _llamacpp(settings: Settings):
    from assistant.llm.llamacpp import LlamaCppChat  # needs pydantic and llama_cpp (the llamacpp extra)

    path = settings.llm_model_path
    if not path:
        raise ConfigError("The llamacpp backend needs llm_model_path, the path of a GGUF model file.")
    if not Path(path).expanduser().is_file():
        raise ConfigError(f"llm_model_path {path} is not a file; give the path of a GGUF model file.")
    return LlamaCppChat(
        model_path=str(Path(path).expanduser()),
        n_ctx=settings.llm_context_tokens,
        max_tokens=settings.llm_answer_tokens,
        temperature=settings.llm_temperature,
    )


SPECS = {
    "openai": BackendSpec("openai", ("langchain_openai", "openai"), "openai", _openai),
    "ollama": BackendSpec("ollama", ("langchain_ollama", "ollama", "httpx"), "ollama", _ollama),
    "llamacpp": BackendSpec("llamacpp", ("llama_cpp",), "llamacpp", _llamacpp),
}


# ---- errors -----------------------------------------------------------------------------------------


def backend_error(exc: BaseException, name: str, where: str) -> BackendError | None:
    """A BackendError that says what failed and what to do, for an exception raised while calling a model; None for a
    bug.

    Client libraries wrap each other's errors (langchain-openai's OpenAIConnectionError wraps openai's,
    which wraps httpx's), so the classes of the whole chain of causes are looked at.
    """
    if isinstance(exc, BackendError):
        return exc
    chain = _causes(exc)
    kinds = {cls.__name__ for error in chain for cls in type(error).__mro__}
    modules = {type(error).__module__.split(".")[0] for error in chain}
    status = next((getattr(e, "status_code", None) for e in chain if getattr(e, "status_code", None)), None)
    text = " ".join(str(exc).split())[:300]
    host = urlsplit(where).netloc or where
    if "ConnectTimeout" in kinds:
        return BackendError(
            f"Cannot reach the {name} LLM server at {where} ({host}): no connection within llm_connect_timeout. "
            "Is the address right and the server up? Or use --backend extractive."
        )
    if kinds & {"APITimeoutError", "ModelTimeoutError", "ReadTimeout", "WriteTimeout", "PoolTimeout"} or isinstance(
        exc, TimeoutError
    ):
        return BackendError(
            f"The {name} LLM server at {where} did not answer in time; it may be overloaded or the model too slow "
            "(setting llm_timeout). Try again, or use --backend extractive."
        )
    if kinds & {"APIConnectionError", "ModelConnectionError", "ConnectError", "RemoteProtocolError", "ConnectionError"}:
        return BackendError(
            f"Cannot reach the {name} LLM server at {where} ({host}): is it running? Check llm_base_url, "
            "or use --backend extractive."
        )
    if kinds & {"AuthenticationError", "PermissionDeniedError", "ModelAuthenticationError"} or status in (401, 403):
        return BackendError(
            f"The {name} LLM server at {where} refused the API key; put a valid key in the environment variable "
            "named by llm_api_key_env."
        )
    if kinds & {"NotFoundError", "ModelNotFoundError"} or status == 404:
        return BackendError(
            f"The {name} LLM server at {where} does not know the model or path asked for ({text}); check llm_model "
            "and llm_base_url (an OpenAI-compatible base URL usually ends in /v1)."
        )
    if "ContextOverflowError" in kinds:
        return BackendError(
            f"The prompt did not fit the {name} model's context window ({text}); lower llm_context_tokens to the "
            "model's window, or raise llm_token_margin."
        )
    if modules & {
        "openai",
        "ollama",
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "langchain_openai",
        "langchain_ollama",
    }:
        return BackendError(f"The {name} LLM server at {where} failed: {text}")
    if modules & {"llama_cpp"} or (name == "llamacpp" and isinstance(exc, (ValueError, RuntimeError))):
        return BackendError(f"The local model {where} failed: {text}")
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
