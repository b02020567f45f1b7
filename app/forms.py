"""Input pieces shared by the domains: the request class that caps bodies, the one form base
every form derives from, the money field, the id converter every route uses, and the helpers
that read ids and page numbers from query strings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import flask
from flask import abort, request
from flask_wtf import FlaskForm
from htmx_flask import HtmxAwareRequest
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, Map
from wtforms import (
    DecimalField,
    FileField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

MAX_PAGE = 10_000
# Ids are 32-bit in PostgreSQL (Integer): anything outside 1..MAX_ID matches no row.
MAX_ID = 2**31 - 1

# Line breaks (and tabs) in a one-line field become one space; other controls disappear.
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
# C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates that can
# make a name read differently from what it is (U+202A-U+202E, U+2066-U+2069).
_ONE_LINE_DROPPED = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Text areas keep tab, CR and LF; NUL (refused by PostgreSQL) and other C0 controls go.
_MULTI_LINE_DROPPED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_line(value: str) -> str:
    """``value`` as one line: line breaks to a space, controls and bidi overrides dropped."""
    return _ONE_LINE_DROPPED.sub("", _LINE_BREAKS.sub(" ", value))


def clean_text(value: str) -> str:
    """``value`` with its lines kept and every other control character dropped."""
    return _MULTI_LINE_DROPPED.sub("", value)


class Request(HtmxAwareRequest):
    """The app's request (htmx-aware): only multipart bodies (uploads) are larger than a form.

    Werkzeug applies MAX_FORM_MEMORY_SIZE to multipart text parts only (since 3.1.9 it says
    so); an urlencoded, JSON or plain body is read whole up to MAX_CONTENT_LENGTH, the upload
    limit. Here any body that is not multipart is refused (413) past MAX_FORM_MEMORY_SIZE.
    """

    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if self.mimetype == "multipart/form-data":
            # A route that takes larger files (product versions) names its own limit.
            app = flask.current_app
            own = app.extensions.get("body_limits", {}).get(self.endpoint) if app else None
            if self._max_content_length is None and own is not None:
                return own(app.config["APP_CONFIG"])
            return limit
        return self._capped(limit)

    def _capped(self, limit: int | None) -> int | None:
        cap = self.max_form_memory_size
        if cap is None or limit is None:
            return cap if limit is None else limit
        return min(limit, cap)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        flask.Request.max_content_length.fset(self, value)


def submitted_line(name: str) -> str:
    """The one-line field ``name`` of this request's form as a form sees it (cleaned), or ""."""
    value = request.form.get(name, "")
    return clean_line(value) if isinstance(value, str) else ""


def _line_filter(value: Any) -> Any:
    return clean_line(value) if isinstance(value, str) else value


def _text_filter(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def _text_filter_for(field_class: type) -> Any:
    """The cleaning every field of ``field_class`` gets, or None for fields that are not text."""
    if issubclass(field_class, PasswordField):
        return None  # a password is hashed as typed, never shown or mailed
    if issubclass(field_class, TextAreaField):
        return _text_filter
    if issubclass(field_class, StringField):
        return _line_filter  # EmailField, SearchField, URLField... are StringFields too
    return None


class Form(FlaskForm):
    """The base of every form in the app (Flask-WTF: every POST carries CSRF).

    - Form data only: Flask-WTF would read a JSON body into the form, where numbers, lists
      and objects break fields that expect text. A JSON body is refused with 415.
    - Text is cleaned before any validator or service sees it: one-line fields (titles, names,
      emails, tags) lose line breaks, control characters and bidi overrides; text areas keep
      their lines but lose NUL and the other controls. File parts reach file fields only.
    """

    class Meta:
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if form.is_submitted() and request.is_json:
                abort(415, "This address takes a form submission, not JSON.")
            wrapped = super().wrap_formdata(form, formdata)
            if isinstance(wrapped, CombinedMultiDict) and request.files in wrapped.dicts:
                # File parts go to file fields only: a text field never sees a FileStorage.
                names = {field.name for field in form if isinstance(field, FileField)}
                files = MultiDict(
                    (name, upload)
                    for name, upload in request.files.items(multi=True)
                    if name in names
                )
                return CombinedMultiDict((files, request.form))
            return wrapped

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            text_filter = _text_filter_for(unbound_field.field_class)
            if text_filter is not None:
                filters = [text_filter, *unbound_field.kwargs.get("filters", ())]
                return unbound_field.bind(form=form, filters=filters, **options)
            return super().bind_field(form, unbound_field, options)


# Plain amounts only: ASCII digits, at most 7 before the point and 2 after; a minus sign is
# left to the range check to explain. No exponent, NaN or Infinity.
_AMOUNT = re.compile(r"-?(?:[0-9]{1,7}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})")


class MoneyField(DecimalField):
    """An amount of money typed as digits with up to two decimals ("19", "19.9", "19.99").

    Decimal() would also take "NaN", "sNaN", "Infinity" and "1e400", which break the range
    check or the re-rendered form; a thousands separator is refused rather than guessed at.
    """

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any):
        super().__init__(label, validators, places=2, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = valuelist[0]
        text = raw.strip() if isinstance(raw, str) else None
        if not text:
            self.data = None
            return
        if not _AMOUNT.fullmatch(text):
            self.data = None
            raise ValueError("Enter an amount like 19 or 19.99.")
        self.data = Decimal(text)


def page_number(args: Mapping[str, str]) -> int:
    """The ``page`` query argument as 1..MAX_PAGE; anything else is page 1."""
    try:
        page = int(args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a database id, 1..MAX_ID; anything else matches no route (404).

    A 21-digit number would otherwise reach the database: OverflowError on SQLite, DataError
    on PostgreSQL, whose Integer is 32-bit.
    """

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=MAX_ID)


def id_arg(args: Mapping[str, str], name: str) -> int | None:
    """The query argument ``name`` as a database id (1..MAX_ID), or None for anything else."""
    raw = args.get(name, "")
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def options(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
