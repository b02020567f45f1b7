"""The one exception every rejection of an upload raises, with the place it happened."""

from __future__ import annotations


class WorkflowError(ValueError):
    """The bytes are not an n8n workflow this library accepts.

    ``location`` names the place: a JSON pointer (RFC 6901, ``""`` is the document root) or
    ``"byte N"`` when the document could not be parsed that far.
    """

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message, location)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        where = self.location or "the document root"
        if self.location.startswith("/"):
            where = f"JSON pointer {self.location}"
        return f"{self.message} (at {where})"

    def __repr__(self) -> str:
        return f"WorkflowError({self.message!r}, location={self.location!r})"
