"""Confirmation pages for actions that cannot be undone (publish, delete, close…).

A button posts to the action's route; without the `confirmed` field the route answers
with a redirect to its own GET, which shows `confirm.html`: what will happen, and a
button that posts again with `confirmed`. It works without JavaScript, and a stray
POST (a double click, a replayed form) changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import render_template, request


def is_confirmed() -> bool:
    return request.form.get("confirmed") == "1"


def confirmation_page(
    *,
    heading: str,
    lead: str,
    consequences: Sequence[str],
    action: str,
    button: str,
    back: tuple[str, str] | None = None,
    fields: Mapping[str, object] | None = None,
    danger: bool = False,
) -> str:
    return render_template(
        "confirm.html",
        heading=heading,
        lead=lead,
        consequences=consequences,
        action=action,
        button=button,
        back=back,
        fields=dict(fields or {}),
        danger=danger,
    )
