"""The catalog's domain errors (app/errors.py maps them to pages, fragments or JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import Conflict, DomainError, PermissionDenied


class ListingError(DomainError):
    status = 422
    message = "That listing could not be saved."


class ListingIncomplete(ListingError):
    """A listing submitted for review without what review needs; ``missing`` names it."""

    def __init__(self, missing: Sequence[str]):
        super().__init__("Fill in before submitting: " + ", ".join(missing) + ".")
        self.missing = list(missing)


class ListingNotEditable(Conflict):
    message = "This listing cannot be edited in its current state."


class TransitionNotAllowed(Conflict):
    message = "That change of status is not allowed."


class NotAVendor(PermissionDenied):
    message = "Only approved vendors can create listings."
