"""Import what a unit sends: its letter, the draft marked up in Word, or the filled comment
form, turned into comments of the unit in the round.

Two steps. `preview_import` reads the file in the upload sandbox (`drafts.markup`), places
every opinion on a clause and keeps the upload aside (`drafts.operations.stash_upload`);
nothing is written to the database. `confirm_import` reads the kept upload again, applies
the user's corrections (another clause, general, left out) and only then writes the
comments, the file as the unit's attachment (once per content) and the audit row.

Who: a person of the invited unit, in its own response while the round takes comments
(the comments are the unit's drafts until its head submits); or a drafter of the draft on
the unit's behalf (the file is the unit's official answer: the comments are on record at
once, as conference opinions are).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from accounts import audit
from accounts.clock import format_datetime
from accounts.errors import Conflict, Forbidden, Invalid, TooLarge
from accounts.i18n import refusal
from accounts.models import User
from comments.consultation.models import (
    Comment,
    CommentSource,
    ConsultationAttachment,
    ResponseStatus,
    UnitResponse,
    fold_text,
)
from comments.consultation.operations import (
    MAX_COMMENT_LENGTH,
    _active_users,
    _ensure_not_closed,
    display_filename,
    ensure_can_comment,
    round_path,
    store_attachment,
)
from drafts import formats, sandbox
from drafts import operations as draft_operations
from drafts.diffing import DiffClause, render_word_diff_html, word_diff
from drafts.documents import clause_lines
from drafts.markup import ImportItem, match_items
from drafts.parsing import ParseError
from drafts.tree import FlatClause, load_flat_clauses, to_diff_clauses
from extensions import db
from notices.notify import notify

PARSER = "drafts.markup:read_response"
IMPORT_TYPES = ("docx", "pdf")
# The most items one file may hold (a preview lists every one of them).
MAX_ITEMS = 5000


@dataclass(frozen=True, slots=True)
class ClauseOption:
    id: int
    lineage: str
    label: str  # "khoản 2 Điều 5"
    depth: int


@dataclass
class ImportPreview:
    """What the preview page and the API show; `token` names the kept upload."""

    token: str
    filename: str
    kind: str  # markup | copy | form | letter
    items: list[ImportItem]
    clauses: list[ClauseOption]
    recorded: bool  # imported by the drafter for the unit: on record at once
    # The clause's wording now, as written, for each item proposing new wording.
    before: dict[int, str] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)  # clause id → citation

    def __post_init__(self) -> None:
        self._ids = {c.lineage: c.id for c in self.clauses}
        self.labels = {c.id: c.label for c in self.clauses}

    def clause_id(self, lineage: str | None) -> int | None:
        return self._ids.get(lineage or "")

    def proposal_diff(self, item: ImportItem) -> Markup | None:
        """The proposal against the clause's wording now: deleted and inserted words."""
        if item.index not in self.before or not item.proposed_text:
            return None
        return render_word_diff_html(word_diff(self.before[item.index], item.proposed_text))


@dataclass(frozen=True, slots=True)
class Choice:
    """The user's correction of one item: its clause (None: general), or left out."""

    clause_id: int | None
    include: bool = True
    keep_clause: bool = False  # leave the clause where the preview put it


# --- who may import ------------------------------------------------------------------------
def on_behalf(response: UnitResponse, actor: User) -> bool:
    """The drafter importing a unit's answer for it (not one of the unit's own people)."""
    return not actor.can_work_for_unit(response.unit_id) and response.consultation.can_manage(actor)


def ensure_can_import(response: UnitResponse, actor: User) -> None:
    if actor.can_work_for_unit(response.unit_id):
        ensure_can_comment(response, actor)
        return
    if not response.consultation.can_manage(actor):
        raise Forbidden(
            _(
                "Chỉ cán bộ của đơn vị được mời, hoặc cán bộ soạn thảo thay cho đơn vị, mới "
                "nhập được ý kiến từ tệp."
            )
        )
    _ensure_not_closed(response.consultation)


# --- reading -------------------------------------------------------------------------------
def _check_file(data: bytes, filename: str) -> str:
    """The file's type ("docx" or "pdf"), within the upload size limit."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 20 * 1024 * 1024
    if not data:
        raise Invalid(_("Tệp rỗng, không có nội dung để đọc."))
    if len(data) > limit:
        raise TooLarge(
            _("Tệp %(name)s vượt quá %(mb)d MB.", name=filename, mb=limit // (1024 * 1024))
        )
    kind = formats.identify(data, filename)
    if kind not in IMPORT_TYPES:
        raise Invalid(
            _(
                "Chỉ nhập được ý kiến từ tệp Word (.docx) hoặc PDF; hãy lưu tệp dưới dạng "
                ".docx rồi tải lên lại."
            )
        )
    return kind


def _clauses(response: UnitResponse) -> tuple[list[FlatClause], list[DiffClause]]:
    flat = load_flat_clauses([response.consultation.version_id])[response.consultation.version_id]
    return flat, to_diff_clauses(flat)


def read_items(
    data: bytes, filename: str, clauses: list[DiffClause]
) -> tuple[str, list[ImportItem]]:
    """Read the file in the upload sandbox and place its items (Invalid/TooLarge when it
    cannot be read, as for a draft's upload)."""
    config = current_app.config
    limits = sandbox.Limits(config["PARSE_MEMORY_MB"], config["PARSE_TIMEOUT_SECONDS"])
    try:
        read = sandbox.run_parser(PARSER, data, filename, limits=limits)
        return read.kind, match_items(read, clauses)
    except sandbox.LimitExceeded as exc:
        if exc.kind == "memory":
            raise TooLarge(refusal(exc)) from exc
        raise Invalid(refusal(exc)) from exc
    except ParseError as exc:
        raise Invalid(refusal(exc)) from exc


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ensure_new_file(response: UnitResponse, digest: str) -> None:
    earlier = db.session.scalar(
        select(ConsultationAttachment).where(
            ConsultationAttachment.response_id == response.id,
            ConsultationAttachment.sha256 == digest,
        )
    )
    if earlier is not None:
        raise Conflict(
            _(
                "Tệp này (%(name)s) đã được nhập cho %(unit)s lúc %(when)s; các ý kiến trong "
                "tệp đã có trong đợt lấy ý kiến.",
                name=earlier.filename,
                unit=response.unit.name,
                when=format_datetime(earlier.uploaded_at),
            )
        )


def _preview(
    response: UnitResponse, token: str, filename: str, data: bytes, actor: User
) -> ImportPreview:
    flat, clauses = _clauses(response)
    kind, items = read_items(data, filename, clauses)
    labels = {c.lineage: c.label for c in clauses}
    options = [
        ClauseOption(c.id, c.lineage, labels[c.lineage], c.depth)
        for c in flat
        if c.kind != "paragraph"
    ]
    by_lineage = {c.lineage: c for c in clauses}
    before = {
        item.index: "\n".join(clause_lines(by_lineage[item.lineage]))
        for item in items
        if item.proposed_text and item.lineage in by_lineage
    }
    return ImportPreview(
        token, filename, kind, items, options, on_behalf(response, actor), before=before
    )


def preview_import(
    response: UnitResponse, *, data: bytes, filename: str, actor: User
) -> ImportPreview:
    """Read a unit's file and place its opinions, without saving any of them."""
    ensure_can_import(response, actor)
    _check_file(data, filename)
    _ensure_new_file(response, _digest(data))
    draft = response.consultation.draft
    token = draft_operations.stash_upload(data, filename=filename, user=actor, draft=draft)
    try:
        return _preview(response, token, draft_operations.display_filename(filename), data, actor)
    except Exception:
        draft_operations.drop_upload(token)
        raise


def load_preview(response: UnitResponse, *, token: str, actor: User) -> ImportPreview:
    """The preview of a kept upload again (the page after a refused confirmation)."""
    ensure_can_import(response, actor)
    upload = draft_operations.take_upload(token, user=actor, draft=response.consultation.draft)
    return _preview(response, token, upload.filename, upload.data, actor)


def confirm_import(
    response: UnitResponse,
    *,
    token: str,
    choices: Mapping[int, Choice],
    actor: User,
) -> list[Comment]:
    """Write the previewed items as the unit's comments, with the user's corrections
    (`choices` by item index; an item without one stays where the preview put it)."""
    ensure_can_import(response, actor)
    consultation = response.consultation
    upload = draft_operations.take_upload(token, user=actor, draft=consultation.draft)
    digest = _digest(upload.data)
    _ensure_new_file(response, digest)
    preview = _preview(response, token, upload.filename, upload.data, actor)
    valid_ids = {c.id for c in preview.clauses}
    unknown = [i for i in choices if not 0 <= i < len(preview.items)]
    if unknown:
        raise Invalid(_("Không có mục số %(n)s trong tệp đã xem trước.", n=unknown[0]))
    picked: list[tuple[ImportItem, int | None]] = []
    for item in preview.items:
        choice = choices.get(item.index)
        clause_id = preview.clause_id(item.lineage)
        if choice is not None:
            if not choice.include:
                continue
            if choice.keep_clause:
                picked.append((item, clause_id))
                continue
            if choice.clause_id is not None and choice.clause_id not in valid_ids:
                raise Invalid(
                    _(
                        "Điều khoản được chọn cho mục %(n)d không thuộc %(version)s.",
                        n=item.index + 1,
                        version=consultation.version.display_label,
                    )
                )
            clause_id = choice.clause_id
        picked.append((item, clause_id))
    if len(preview.items) > MAX_ITEMS:
        raise Invalid(
            _("Tệp có quá nhiều ý kiến (hơn %(n)d); hãy chia thành nhiều tệp.", n=MAX_ITEMS)
        )
    if not picked:
        raise Invalid(_("Hãy giữ lại ít nhất một ý kiến để nhập."))

    kind = formats.identify(upload.data, upload.filename)
    attachment = store_attachment(
        consultation, upload.data, kind, display_filename(upload.filename, kind)
    )
    attachment.response_id = response.id
    attachment.sha256 = digest
    attachment.uploaded_by_id = actor.id
    recorded = on_behalf(response, actor)
    lineage_of = {c.id: c.lineage for c in preview.clauses}
    created: list[Comment] = []
    for item, clause_id in picked:
        text = item.text
        proposal = item.proposed_text
        if clause_id is None and proposal:
            # New wording belongs to a clause; on a general comment it is part of the text.
            text, proposal = f"{text}\nĐề xuất: {proposal}", None
        comment = Comment(
            consultation=consultation,
            draft_id=consultation.draft_id,
            response=response,
            unit_id=response.unit_id,
            clause_id=clause_id,
            lineage=lineage_of.get(clause_id) if clause_id is not None else None,
            author=actor,
            source=CommentSource.LETTER if recorded else CommentSource.WRITTEN,
            proposed_text=_cut(proposal) if proposal else None,
            attachment=attachment,
        )
        comment.text = _cut(text)
        comment.search_text = fold_text(comment.text)
        created.append(comment)
    db.session.add_all(created)
    if response.status == ResponseStatus.NOT_STARTED and not recorded:
        response.status = ResponseStatus.DRAFTING
    db.session.flush()
    draft_operations.drop_upload(token)
    methods = Counter(item.method for item, _ in picked)
    audit.record(
        "comment.import",
        response,
        actor=actor,
        summary=f"{response.unit.short_name}: {len(created)} ý kiến từ tệp {attachment.filename}",
        details={
            "consultation_id": consultation.id,
            "attachment_id": attachment.id,
            "sha256": digest,
            "kind": preview.kind,
            "on_behalf": recorded,
            "comments": [c.id for c in created],
            "methods": dict(sorted(methods.items())),
            "left_out": len(preview.items) - len(picked),
        },
    )
    if recorded:
        notify(
            _active_users([response.unit_id], heads_only=True),
            kind="consultation.imported",
            title="Ý kiến của đơn vị đã được nhập từ tệp",
            body=f"{consultation.draft.title}: {len(created)} ý kiến từ tệp "
            f"{attachment.filename} được ghi vào {consultation.label.lower()}.",
            url=round_path(consultation),
        )
    return created


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_COMMENT_LENGTH else text[: MAX_COMMENT_LENGTH - 1] + "…"
