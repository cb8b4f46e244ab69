"""Labels kept in code: marked for the catalogue where they are defined, translated where
they are shown.

Label dictionaries hold Vietnamese, because official documents, exports and the audit log
use them as they are. `N_` only marks a text for `pybabel extract -k N_`; pages translate
it when they show it (`_()` in templates), and forms when they are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark `message` for extraction; it stays as it is."""
    return message


def label_choices(labels: Mapping[Enum, str]) -> list[tuple[str, str]]:
    """Select options from a label dictionary, in the request's language. A form class
    passes `choices=lambda: label_choices(...)`: WTForms calls it each time a form is
    built, whereas a list would be built once, at import, in no language."""
    return [(key.value, gettext(label)) for key, label in labels.items()]
