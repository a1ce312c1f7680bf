"""Errors a user can act on. The CLI and UI show their message, never a traceback."""


class AssistantError(Exception):
    """Base class: the message says what went wrong and what to do about it."""


class ConfigError(AssistantError):
    """A setting or config file is invalid."""


class InputError(AssistantError):
    """A question, file or folder given by the user cannot be used."""


class StoreMismatchError(AssistantError):
    """The store was built with another embedding model or chunker settings."""


class StoreInUseError(AssistantError):
    """Another process holds the embedded store."""


class StoreError(AssistantError):
    """The vector store cannot be opened or reached."""


class EmptyStoreError(AssistantError):
    """A question was asked of a store that holds no article yet (only the default store gets the bundled seeds)."""


class BackendError(AssistantError):
    """An answer backend (LLM server, optional package) is unavailable."""


class QuestionSetError(AssistantError):
    """A question set file is malformed."""
