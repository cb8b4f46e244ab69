"""Reads shared by the draft pages and their JSON twins."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from accounts.errors import NotFound
from drafts.models import Draft, DraftDrafter
from extensions import db


def get_draft(draft_id: int) -> Draft:
    """One draft with what its page and its JSON read: the drafting unit, the versions
    and the drafters. Whether the caller may see it is the caller's check."""
    draft = db.session.scalar(
        select(Draft)
        .where(Draft.id == draft_id)
        .options(
            joinedload(Draft.drafting_unit),
            selectinload(Draft.versions),
            selectinload(Draft.drafters).joinedload(DraftDrafter.user),
        )
    )
    if draft is None:
        raise NotFound(_("Không tìm thấy dự thảo."))
    return draft
