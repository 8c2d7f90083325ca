"""Errors a user can cause, each carrying one clear sentence."""

from __future__ import annotations


class CitebotError(Exception):
    """Base class for errors whose message is shown to the user as is."""


class ArticlesFolderError(CitebotError):
    """The articles folder is missing or is not a folder."""


class DataDirError(CitebotError):
    """The data directory cannot be created or written."""


class IndexMismatchError(CitebotError):
    """The index on disk was built with another model or chunker settings."""


class IndexMissingError(CitebotError):
    """No index has been built in the data directory yet."""


class ReindexRunningError(CitebotError):
    """Another reindex holds the writer lock."""


class ReindexAbandonedError(CitebotError):
    """A reindex was stopped before it finished (the bot is shutting down)."""


class QuestionError(CitebotError):
    """The question cannot be answered as asked (empty, say)."""


class SettingsError(CitebotError):
    """A setting (environment, `.env` or flag) has a value that is not allowed."""


class DiskFullError(CitebotError):
    """The data directory's filesystem has no room for the new index generation."""


class WriterSettingsError(SettingsError):
    """A CITEBOT_LLM_* setting is missing or wrong."""
