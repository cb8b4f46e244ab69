"""A version's Word documents, built from the database: the draft sent out for comment, the
comment form, and the redline of one version against an earlier one.

Each function loads the clauses with one query per version and hands them to the pure builders
of `drafts.documents` and `drafts.redline`.
"""

from __future__ import annotations

from flask_babel import gettext as _

from accounts.clock import local_today, now
from accounts.downloads import DOCX_MIMETYPE, Download, slug
from accounts.errors import Conflict, Invalid
from accounts.letterhead import agency_name, agency_place
from drafts.diffing import DiffClause, diff_versions
from drafts.documents import DraftHeading, build_comment_form_docx, build_for_comment_docx
from drafts.models import Version
from drafts.redline import RedlineHeading, build_redline_docx
from drafts.tree import load_flat_clauses, to_diff_clauses


def _clauses(version: Version) -> list[DiffClause]:
    return to_diff_clauses(load_flat_clauses([version.id])[version.id])


def _heading(version: Version) -> DraftHeading:
    draft = version.draft
    return DraftHeading(
        agency_name=agency_name(),
        drafting_unit=draft.drafting_unit.name.upper(),
        draft_title=draft.title,
        version_label=version.label,
        place=agency_place(),
        date=local_today(),
    )


def _published(version: Version) -> None:
    if not version.is_published:
        raise Conflict(
            _("Phiên bản này chưa phát hành nên chưa gửi lấy ý kiến được; hãy phát hành trước.")
        )


def for_comment_docx(version: Version) -> Download:
    """The published version as an official .docx, each clause inside its lineage bookmark."""
    _published(version)
    data = build_for_comment_docx(_heading(version), _clauses(version))
    filename = f"du-thao-{slug(version.draft.title, 50)}-lan-{version.number}.docx"
    return Download(data, filename, DOCX_MIMETYPE)


def comment_form_docx(version: Version) -> Download:
    """The phiếu góp ý of a published version."""
    _published(version)
    data = build_comment_form_docx(_heading(version), _clauses(version))
    filename = f"phieu-gop-y-{slug(version.draft.title, 50)}-lan-{version.number}.docx"
    return Download(data, filename, DOCX_MIMETYPE)


def redline_base(version: Version, against: Version | None = None) -> Version:
    """The version `version` is compared with: `against` if given (an earlier published
    version of the same draft), else the version it was based on, else the latest published
    version before it."""
    if against is not None:
        if against.draft_id != version.draft_id or against.number >= version.number:
            raise Invalid(_("Chỉ so sánh được với một phiên bản trước của cùng dự thảo."))
        if not against.is_published:
            raise Invalid(_("Chỉ so sánh được với một phiên bản đã phát hành."))
        return against
    based_on = version.based_on
    if based_on is not None and based_on.is_published and based_on.number < version.number:
        return based_on
    earlier = [v for v in version.draft.versions if v.is_published and v.number < version.number]
    if not earlier:
        raise Conflict(_("Chưa có phiên bản nào trước phiên bản này để so sánh."))
    return earlier[-1]


def redline_docx(version: Version, base: Version) -> Download:
    """`version` against `base` with tracked changes by the drafting office, dated now."""
    draft = version.draft
    found = load_flat_clauses([base.id, version.id])
    entries = diff_versions(to_diff_clauses(found[base.id]), to_diff_clauses(found[version.id]))
    head = RedlineHeading(
        draft_title=draft.title,
        old_label=base.label,
        new_label=version.label,
        author=draft.drafting_unit.name,
        moment=now(),
    )
    filename = (
        f"ban-theo-doi-thay-doi-{slug(draft.title, 40)}-lan-{base.number}-va-lan-{version.number}"
        ".docx"
    )
    return Download(build_redline_docx(head, entries), filename, DOCX_MIMETYPE)
