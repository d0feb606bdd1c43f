"""Every error the pipeline raises on purpose, in one hierarchy.

Each class keeps the builtin base it always had (``ValueError``, ``RuntimeError``...), so code
that catches those keeps working; all of them are :class:`RagError`, which is what the ``rag``
command catches to print one line instead of a traceback.

Example:
    >>> issubclass(IndexCorrupt, StoreError) and issubclass(IndexCorrupt, RuntimeError)
    True
    >>> all(issubclass(e, RagError) for e in (ConfigError, QuestionError, LLMError, LoadError))
    True
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every expected failure; the message says what went wrong and how to fix it."""


# ---------------------------------------------------------------------------- input
class ConfigError(RagError, ValueError):
    """A setting has a value that cannot be used; the message names the setting."""


class QuestionError(RagError, ValueError):
    """The question cannot be answered as given; the message says why."""


class BindError(RagError, ValueError):
    """A server was asked to listen beyond this machine without protection."""


class ServeConfigError(BindError):
    """``rag serve`` cannot start as configured; the message says what to change."""


class UploadError(RagError, ValueError):
    """An uploaded file is refused; the message names the file and the reason."""


# ---------------------------------------------------------------------------- documents
class SkipFile(RagError):
    """The file is not an error but holds nothing to index (empty, binary); the message says why."""


class LoadError(RagError):
    """The file cannot be read as a document; the message names the file and the fix."""


class FetchError(RagError):
    """A URL could not be fetched (``rag ingest URL``); the message is one line naming it.

    ``status`` is the HTTP status when the server answered with an error.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Refused(FetchError):
    """A URL is not fetched on purpose (robots.txt, another host, a private address...)."""


# ---------------------------------------------------------------------------- the index
class StoreError(RagError, RuntimeError):
    """The index cannot be used; the message says why and how to fix it."""


class IndexNotFound(StoreError):
    """No index has been built yet at that place."""


class IndexCorrupt(StoreError):
    """The index exists but is damaged or inconsistent; the message says how to rebuild."""


class IndexBusy(StoreError):
    """Another ingest holds the index lock."""


class IndexMismatch(StoreError):
    """The index was built with another embedder than the one configured."""


class NothingToIndex(StoreError):
    """The given paths hold no usable document; the message lists what was skipped."""


# ---------------------------------------------------------------------------- models
class EmbedderError(RagError, RuntimeError):
    """The embedder cannot be loaded; the message says which model and what to do."""


class E5BuildError(RagError, RuntimeError):
    """The embedder folder cannot be built; the message names the file and the fix."""


class LLMError(RagError, RuntimeError):
    """The LLM could not answer (down, timed out, refused, empty); the message says which."""


class LocalModelError(RagError, RuntimeError):
    """The embedded model cannot be prepared or served; the message says how to fix it."""


# ---------------------------------------------------------------------------- evaluation
class SquadError(RagError, ValueError):
    """The file is not in SQuAD format; the message says what is missing."""


class ExpectedError(RagError, ValueError):
    """The expected-scores file is malformed; the message says where."""
