"""A local GGUF model through llama-cpp-python, as a LangChain chat model (the `llamacpp` backend).

A small wrapper instead of langchain_community's ChatLlamaCpp, so the extra stays one package
(`news-assistant[llamacpp]`). The model file is loaded once per process and path; llama.cpp
contexts are not thread-safe, so calls on one model take turns.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

_loaded: dict[tuple[str, int, int], tuple[Any, threading.Lock]] = {}
_loading = threading.Lock()

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


def _model(path: str, n_ctx: int, n_threads: int) -> tuple[Any, threading.Lock]:
    from llama_cpp import Llama  # the llamacpp extra, imported when a model is loaded

    key = (path, n_ctx, n_threads)
    with _loading:
        if key not in _loaded:
            llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads or None, verbose=False)
            _loaded[key] = (llama, threading.Lock())
        return _loaded[key]


class LlamaCppChat(BaseChatModel):
    """Chat completions from a GGUF file, in process; the chat template comes from the file's metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 0  # 0: llama.cpp's default
    max_tokens: int = 256
    temperature: float = 0.0
    _handle: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llamacpp-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "n_ctx": self.n_ctx,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def _llama(self) -> tuple[Any, threading.Lock]:
        if self._handle is None:
            self._handle = _model(self.model_path, self.n_ctx, self.n_threads)
        return self._handle

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        return {
            "messages": [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stop": stop or [],
        }

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        llama, lock = self._llama()
        with lock:
            response = llama.create_chat_completion(**self._request(messages, stop, **kwargs))
        usage = response.get("usage") or {}
        message = AIMessage(
            content=response["choices"][0]["message"].get("content") or "",
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
        )
        return ChatResult(
            generations=[
                ChatGeneration(
                    message=message, generation_info={"finish_reason": response["choices"][0].get("finish_reason")}
                )
            ]
        )

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        llama, lock = self._llama()
        with lock:
            for part in llama.create_chat_completion(stream=True, **self._request(messages, stop, **kwargs)):
                delta = part["choices"][0].get("delta", {}).get("content") or ""
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
