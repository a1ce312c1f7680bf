"""LLM answer backends: LangChain chat models behind the same answer chain, every citation checked.

- models.py     the chat model of each backend (openai, ollama, llamacpp) and readable errors
- llamacpp.py   a local GGUF file as a LangChain chat model
- prompting.py  prompt files rendered with passages fenced as data, packed into the token budget
- text.py       article text cleaned going in; links, images and tags removed coming out
- checking.py   citations and sentences checked against the passages they cite
- answerer.py   LLMAnswerer: answer() and stream()
"""

from assistant.llm.answerer import LLMAnswerer

__all__ = ["LLMAnswerer"]
