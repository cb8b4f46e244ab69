"""Labels kept in code: marked for the catalogue where they are defined, translated where
they are shown.

Label dictionaries hold Vietnamese, because official documents, exports and the audit log
use them as they are. `N_` only marks a text for `pybabel extract -k N_`; pages translate
it when they show it (`_()` in templates), and forms when they are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark `message` for extraction; it stays as it is."""
    return message


def label_choices(labels: Mapping[Enum, str]) -> list[tuple[str, str]]:
    """Select options from a label dictionary, in the request's language. A form class
    passes `choices=lambda: label_choices(...)`: WTForms calls it each time a form is
    built, whereas a list would be built once, at import, in no language."""
    return [(key.value, gettext(label)) for key, label in labels.items()]


@dataclass(frozen=True)
class Deferred:
    """A message written for someone else, translated when their copy is made.

    A notification is built while the actor's request runs, but each recipient reads it
    in their own language: `Deferred(N_("… %(unit)s …"), unit=name)` keeps the message
    and its values, and `render()` translates it in the language in force (the caller
    sets the recipient's with `force_locale`). A value may itself be a Deferred, such as
    a status label.
    """

    message: str
    values: Mapping[str, Any]

    def __init__(self, message: str, **values: Any) -> None:
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "values", values)

    def render(self) -> str:
        values = {k: render(v) for k, v in self.values.items()}
        translated = gettext(self.message)
        return translated % values if values else translated


def render(text: Any) -> str:
    """A plain string as it is; a Deferred in the current language."""
    return text.render() if isinstance(text, Deferred) else text


def refusal(error: Any) -> str:
    """The message of a pure module's error (a `template` marked N_ and its `values`, as
    drafts.officefile.ParseError carries) in the current language."""
    return Deferred(error.template, **error.values).render()


def note_text(note: Any) -> str:
    """A warning in the current language: a Note (drafts.officefile) or its JSON form
    translated, a plain text (stored before warnings kept their template) as it is."""
    if isinstance(note, Mapping):
        return Deferred(note["template"], **note.get("values", {})).render()
    if hasattr(note, "template"):
        return refusal(note)
    return str(note)
