"""Verb-named operations of a consultation round: open it, comment, submit a unit's
position, reopen it, extend a deadline, record conference opinions, close the round.

Each one checks who may act and whether the round's state allows it (raising a
`UserError` with a plain Vietnamese message), changes the models, writes the audit row
and queues notifications. None of them commits: the caller does, once.

The checks mirror the `can_*` predicates in `comments.consultation.models` (templates hide buttons
with those); here they also say *why* an action is refused.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm.exc import StaleDataError

from accounts import audit
from accounts.clock import format_datetime, local_today, now
from accounts.errors import Conflict, Forbidden, Invalid
from accounts.i18n import N_, Deferred, refusal
from accounts.models import EmulationYear, Group, Unit, User
from accounts.operations import year_for_date
from comments.consultation.models import (
    ROUND_LABEL,
    Comment,
    CommentSource,
    Consultation,
    ConsultationAttachment,
    PositionSubmission,
    ResponseStatus,
    UnitResponse,
    Visibility,
    fold_text,
)
from comments.consultation.queries import (
    GENERAL_LABEL,
    CommentTarget,
    consulted_version_ids,
    load_draft_text,
    unit_written_comments,
)
from drafts.lifecycle import DRAFT_MACHINE, apply_draft_action
from drafts.models import VERSION_LABEL, Clause, Draft, Version
from drafts.parsing import ParseError, sniff_office_file
from extensions import db
from notices.notify import notify

MAX_COMMENT_LENGTH = 20_000
MAX_LETTER_NUMBER_LENGTH = 120
MAX_MEETING_FORM_LENGTH = 200
DEFAULT_MEETING_FORM = "Hội nghị trực tuyến"

# What a request letter may carry, told by content (never by the name the browser sent).
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_UNSAFE_NAME_CHARS = set('<>:"/\\|?*')


@dataclass(frozen=True)
class AttachmentUpload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class ConferenceOpinion:
    """One opinion voiced at a meeting, recorded on behalf of an invited unit."""

    unit: Unit
    clause: Clause | None
    text: str


# --- helpers ------------------------------------------------------------------------------
def round_path(consultation: Consultation) -> str:
    """The round's page, as a path (also outside a request: the demo and the scans)."""
    adapter = current_app.url_map.bind("localhost")
    return adapter.build("comments.round_home", {"consultation_id": consultation.id})


def _active_users(unit_ids: Iterable[int], *, heads_only: bool = False) -> list[User]:
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    users = db.session.scalars(
        select(User).where(User.unit_id.in_(ids), User.active).order_by(User.id)
    ).all()
    if heads_only:
        return [u for u in users if u.can_sign_for_unit(u.unit_id)]
    return list(users)


def _drafters(draft: Draft) -> list[User]:
    return [d.user for d in draft.drafters if d.user.active]


def _clean_text(text: str, *, what: str = N_("Nội dung góp ý")) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(_("%(what)s không được để trống.", what=_(what)))
    if len(text) > MAX_COMMENT_LENGTH:
        limit = f"{MAX_COMMENT_LENGTH:,}".replace(",", ".")  # Vietnamese: 20.000
        raise Invalid(_("%(what)s dài quá %(limit)s ký tự.", what=_(what), limit=limit))
    return text


def _ensure_not_closed(consultation: Consultation | CommentTarget) -> None:
    if consultation.closed_at is not None:
        raise Conflict(
            _(
                "%(label)s đã kết thúc lúc %(when)s; không thể góp ý, sửa ý kiến hay gửi ý "
                "kiến nữa.",
                label=consultation.label,
                when=format_datetime(consultation.closed_at),
            )
        )


def _ensure_accepting(consultation: Consultation | CommentTarget) -> None:
    """The round takes comments and positions: started, and not closed."""
    _ensure_not_closed(consultation)
    if not consultation.is_open():
        raise Conflict(
            _(
                "%(label)s chưa bắt đầu; các đơn vị góp ý từ %(when)s.",
                label=consultation.label,
                when=format_datetime(consultation.opens_at),
            )
        )


def ensure_can_comment(response: UnitResponse, actor: User) -> None:
    _ensure_can_comment(response.unit_id, response.consultation, response.is_submitted, actor)


def _ensure_can_comment(
    unit_id: int,
    consultation: Consultation | CommentTarget,
    submitted: bool,
    actor: User | Author,
) -> None:
    if not actor.can_work_for_unit(unit_id):
        raise Forbidden(_("Chỉ cán bộ và Thủ trưởng của đơn vị được mời mới góp ý cho đơn vị đó."))
    _ensure_accepting(consultation)
    if submitted:
        raise Conflict(
            _(
                "Đơn vị đã gửi ý kiến chính thức; Thủ trưởng đơn vị cần mở lại ý kiến đã gửi "
                "trước khi thêm, sửa hoặc xóa góp ý."
            )
        )


def ensure_can_edit(comment: Comment, actor: User) -> None:
    if comment.is_recorded:
        if not comment.consultation.can_manage(actor):
            raise Forbidden(
                _(
                    "Chỉ cán bộ soạn thảo của dự thảo mới sửa ý kiến tại hội nghị hoặc ý kiến "
                    "nhập từ công văn của đơn vị."
                )
            )
        _ensure_not_closed(comment.consultation)
        return
    ensure_can_comment(comment.response, actor)


def _ensure_lock(comment: Comment, lock_version: int | None) -> None:
    if lock_version is not None and lock_version != comment.lock_version:
        raise Conflict(
            _(
                "Ý kiến này vừa được người khác sửa sau khi bạn mở ra. Nội dung bạn nhập vẫn "
                "được giữ nguyên; hãy đối chiếu với nội dung hiện tại rồi lưu lại."
            ),
            details={"current_lock_version": comment.lock_version, "current_text": comment.text},
        )


def check_clause(consultation: Consultation, clause: Clause | None) -> None:
    if clause is not None and clause.version_id != consultation.version_id:
        raise _foreign_clause(consultation.version, consultation)


def _foreign_clause(version: Version, consultation: Consultation | CommentTarget) -> Invalid:
    return Invalid(
        _(
            "Điều khoản được chọn không thuộc %(label)s đang được lấy ý kiến ở %(round)s; chỉ "
            "góp ý trên các điều khoản của phiên bản này.",
            label=version.display_label,
            round=consultation.label.lower(),
        )
    )


def _ensure_manager(consultation: Consultation, actor: User) -> None:
    if not consultation.can_manage(actor):
        raise Forbidden(_("Chỉ cán bộ soạn thảo của dự thảo mới thực hiện được thao tác này."))


# --- opening a round ---------------------------------------------------------------------
def current_year() -> EmulationYear | None:
    return year_for_date(local_today())


def invitees(
    units: Iterable[Unit], groups: Iterable[Group], *, year: EmulationYear | None
) -> list[Unit]:
    """The invited units: those picked one by one plus every member of the picked
    Cụm/Khối, which must belong to the current emulation year."""
    chosen: dict[int, Unit] = {u.id: u for u in units}
    for group in groups:
        if year is None or group.year_id != year.id:
            raise Invalid(_("%(name)s không thuộc năm thi đua hiện tại.", name=group.name))
        chosen.update({u.id: u for u in group.units})
    return sorted(chosen.values(), key=lambda u: u.name)


def _validate_window(opens_at: datetime, closes_at: datetime) -> None:
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise Invalid(_("Thời điểm bắt đầu và hạn góp ý phải có múi giờ."))
    if closes_at <= opens_at:
        raise Invalid(_("Hạn góp ý phải sau thời điểm bắt đầu lấy ý kiến."))
    if closes_at <= now():
        raise Invalid(_("Hạn góp ý phải là một thời điểm trong tương lai."))


def _validate_version(draft: Draft, version: Version) -> None:
    if version.draft_id != draft.id:
        raise Invalid(_("Phiên bản được chọn không thuộc dự thảo này."))
    if not version.is_published:
        raise Conflict(
            _(
                "%(label)s chưa được phát hành; chỉ lấy ý kiến trên phiên bản đã phát hành.",
                label=version.display_label,
            )
        )
    consulted = consulted_version_ids(draft)
    if version.id in consulted:
        raise Conflict(
            _(
                "%(label)s đã được lấy ý kiến; hãy phát hành phiên bản mới để lấy ý kiến lần "
                "tiếp theo.",
                label=version.display_label,
            )
        )
    numbers = [v.number for v in draft.versions if v.id in consulted]
    if numbers and version.number < max(numbers):
        raise Conflict(
            _("Đã lấy ý kiến trên phiên bản mới hơn %(label)s.", label=version.display_label)
        )


def open_consultation(
    draft: Draft,
    version: Version,
    *,
    units: Iterable[Unit],
    opens_at: datetime,
    closes_at: datetime,
    visibility: Visibility,
    letter_number: str,
    letter_text: str,
    attachments: Sequence[AttachmentUpload] = (),
    actor: User,
) -> Consultation:
    """Open a round on a published version: one UnitResponse per invited unit, the
    draft moves to "Đang lấy ý kiến", and every user of every invited unit is told."""
    if not (actor.can_draft() and draft.is_drafter(actor)):
        raise Forbidden(_("Chỉ cán bộ soạn thảo của dự thảo mới lấy ý kiến góp ý."))
    # The draft's state first: "đang lấy ý kiến" explains more than any field would.
    DRAFT_MACHINE.check(draft, "open_consultation", actor)
    _validate_version(draft, version)
    invited = list({u.id: u for u in units}.values())
    if not invited:
        raise Invalid(_("Hãy chọn ít nhất một đơn vị được mời góp ý."))
    retired = [u.name for u in invited if not u.active]
    if retired:
        raise Invalid(
            _(
                "Đơn vị đã ngừng hoạt động, không mời góp ý được: %(names)s.",
                names=", ".join(retired),
            )
        )
    _validate_window(opens_at, closes_at)
    letter_number = (letter_number or "").strip()
    if not letter_number:
        raise Invalid(_("Hãy nhập số công văn xin ý kiến."))
    if len(letter_number) > MAX_LETTER_NUMBER_LENGTH:
        raise Invalid(
            _(
                "Số công văn dài quá %(limit)s ký tự.",
                limit=MAX_LETTER_NUMBER_LENGTH,
            )
        )
    prepared = [_prepare_upload(a) for a in attachments]

    apply_draft_action(draft, "open_consultation", actor)
    last = db.session.scalar(
        select(func.max(Consultation.round_number)).where(Consultation.draft_id == draft.id)
    )
    consultation = Consultation(
        draft=draft,
        version=version,
        round_number=(last or 0) + 1,
        opens_at=opens_at,
        closes_at=closes_at,
        visibility=Visibility(visibility),
        letter_number=letter_number,
        letter_text=(letter_text or "").strip(),
        created_by=actor,
    )
    consultation.responses = [UnitResponse(unit=u) for u in invited]
    db.session.add(consultation)
    db.session.flush()
    for upload, (kind, name) in zip(attachments, prepared, strict=True):
        store_attachment(consultation, upload.data, kind, name)
    audit.record(
        "consultation.open",
        consultation,
        actor=actor,
        summary=f"{draft.title}: {consultation.label} ({version.label})",
        details={
            "version_id": version.id,
            "units": [u.id for u in invited],
            "opens_at": opens_at.isoformat(),
            "closes_at": closes_at.isoformat(),
            "visibility": consultation.visibility.value,
            "letter_number": letter_number,
        },
    )
    notify(
        _active_users(u.id for u in invited),
        kind="consultation.opened",
        title=Deferred(N_("Đề nghị góp ý: %(title)s"), title=draft.title),
        body=Deferred(
            N_("Công văn số %(letter)s đề nghị đơn vị góp ý %(version)s. Hạn góp ý: %(due)s."),
            letter=letter_number,
            version=Deferred(VERSION_LABEL, n=version.number),
            due=format_datetime(closes_at),
        ),
        url=round_path(consultation),
    )
    return consultation


# --- attachments ---------------------------------------------------------------------------
def display_filename(name: str, kind: str) -> str:
    """The name shown and offered on download: Vietnamese kept, only characters that are
    unsafe in a file name or a header removed, and the extension matching the content."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in _UNSAFE_NAME_CHARS)
    name = " ".join(name.split()).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() != kind:
        stem = name
    stem = stem[:180].strip(" .") or "tep-dinh-kem"
    return f"{stem}.{kind}"


def _prepare_upload(upload: AttachmentUpload) -> tuple[str, str]:
    data = upload.data
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 20 * 1024 * 1024
    if not data:
        raise Invalid(
            _("Tệp %(name)s rỗng.", name=upload.filename) if upload.filename else _("Tệp rỗng.")
        )
    if len(data) > limit:
        raise Invalid(
            _(
                "Tệp %(filename)s vượt quá %(value)s MB.",
                filename=upload.filename,
                value=limit // (1024 * 1024),
            )
        )
    if data.startswith(b"%PDF-"):
        kind = "pdf"
    else:
        try:
            kind = sniff_office_file(data)
        except ParseError as exc:
            raise Invalid(
                _(
                    "Tệp %(filename)s: chỉ nhận tệp PDF, Word (.docx) hoặc Excel (.xlsx). "
                    "%(message)s",
                    filename=upload.filename,
                    message=refusal(exc),
                )
            ) from exc
    return kind, display_filename(upload.filename, kind)


def attachment_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "consultations"


def attachment_path(attachment: ConsultationAttachment) -> Path:
    return attachment_dir() / attachment.stored_name


def store_attachment(
    consultation: Consultation, data: bytes, kind: str, name: str
) -> ConsultationAttachment:
    folder = attachment_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}.{kind}"
    with open(folder / stored_name, "xb") as fh:
        fh.write(data)
    attachment = ConsultationAttachment(
        consultation=consultation,
        filename=name,
        stored_name=stored_name,
        content_type=ATTACHMENT_TYPES[kind],
        size=len(data),
    )
    db.session.add(attachment)
    return attachment


def add_attachment(
    consultation: Consultation, upload: AttachmentUpload, *, actor: User
) -> ConsultationAttachment:
    """Attach a file to the request letter (PDF, .docx or .xlsx, checked by content)."""
    _ensure_manager(consultation, actor)
    _ensure_not_closed(consultation)
    kind, name = _prepare_upload(upload)
    attachment = store_attachment(consultation, upload.data, kind, name)
    audit.record(
        "consultation.attachment",
        consultation,
        actor=actor,
        summary=f"{consultation.label}: {name}",
        details={"filename": name, "size": len(upload.data)},
    )
    return attachment


# --- comments ------------------------------------------------------------------------------
def _clean_proposal(proposed_text: str | None, clause: Clause | None) -> str | None:
    """New wording is for a clause; empty means none."""
    proposed_text = (proposed_text or "").strip()
    if not proposed_text:
        return None
    if clause is None:
        raise Invalid(_("Đề xuất sửa đổi chỉ ghi cho một điều khoản, không cho ý kiến chung."))
    return _clean_text(proposed_text, what="Đề xuất sửa đổi")


def add_comment(
    response: UnitResponse,
    *,
    clause: Clause | None,
    text: str,
    actor: User,
    proposed_text: str | None = None,
) -> Comment:
    """A staff member or the head adds a comment for the unit (clause None: "Ý kiến
    chung"). It stays inside the unit until the head submits the position."""
    ensure_can_comment(response, actor)
    consultation = response.consultation
    check_clause(consultation, clause)
    comment = Comment(
        consultation=consultation,
        draft_id=consultation.draft_id,
        response=response,
        unit_id=response.unit_id,
        clause=clause,
        lineage=clause.lineage if clause is not None else None,
        author=actor,
        source=CommentSource.WRITTEN,
        proposed_text=_clean_proposal(proposed_text, clause),
    )
    comment.set_text(_clean_text(text))
    db.session.add(comment)
    if response.status == ResponseStatus.NOT_STARTED:
        response.status = ResponseStatus.DRAFTING
    audit.record(
        "comment.create",
        comment,
        actor=actor,
        summary=f"{response.unit.short_name}: ý kiến #{comment.id}",
        details={
            "consultation_id": consultation.id,
            "clause_id": comment.clause_id,
            "digest": audit.digest(comment.text),
        },
    )
    return comment


@dataclass(frozen=True, slots=True)
class AddedComment:
    """A comment `insert_comment` has just written: the values it inserted, named as on
    `Comment`, with what its answer shows beside them."""

    id: int
    consultation_id: int
    unit_id: int
    unit_name: str
    clause_id: int | None
    clause_label: str
    text: str
    author_id: int
    author_name: str
    created_at: datetime
    updated_at: datetime
    lock_version: int
    source: CommentSource = CommentSource.WRITTEN
    meeting_date: date | None = None
    meeting_form: str = ""
    submitted: bool = False  # a unit's comment goes out only with its submitted position
    proposed_text: str | None = None
    attachment_id: int | None = None


# Built once and run with each comment's values (a statement costs more to build than to run).
_INSERT_COMMENT = insert(Comment.__table__)


class Author(Protocol):
    """Who writes a comment through `insert_comment`: a `User`, or the API's caller
    (`accounts.apispec.ApiCaller`, the same predicates without the loaded user)."""

    id: int
    full_name: str

    def can_work_for_unit(self, unit_id: int) -> bool: ...


def insert_comment(
    target: CommentTarget, *, text: str, actor: Author, proposed_text: str | None = None
) -> AddedComment:
    """`add_comment` for the API, where it is the busiest write: the same checks on the
    columns `queries.comment_target` read (its clause is the one commented on), then the
    comment and its audit row as plain INSERTs. No object is loaded, flushed or read
    back after the commit."""
    if target.response_id is None or target.unit_id is None:
        raise Forbidden(_("Đơn vị của bạn không được mời góp ý trong đợt này."))
    unit_name, unit_short_name = target.unit_name or "", target.unit_short_name or ""
    _ensure_can_comment(target.unit_id, target, target.is_submitted, actor)
    clause = target.clause
    if clause is not None and clause.version_id != target.version_id:
        raise _foreign_clause(db.session.get_one(Version, target.version_id), target)
    text = _clean_text(text)
    proposal = _clean_proposal(proposed_text, clause)
    moment = now()
    values = {
        "consultation_id": target.consultation_id,
        "draft_id": target.draft_id,
        "response_id": target.response_id,
        "unit_id": target.unit_id,
        "clause_id": clause.id if clause is not None else None,
        "lineage": clause.lineage if clause is not None else None,
        "author_id": actor.id,
        "text": text,
        "search_text": fold_text(text),
        "source": CommentSource.WRITTEN,
        "proposed_text": proposal,
        "created_at": moment,
        "updated_at": moment,
        "lock_version": 1,
    }
    # Everything is computed before the first write: on SQLite the write lock is held
    # from the first INSERT to the COMMIT, and other workers wait for it.
    comment_id = db.session.execute(_INSERT_COMMENT, values).inserted_primary_key[0]
    audit.record_row(
        "comment.create",
        actor_id=actor.id,
        object_type=Comment.__tablename__,
        object_id=comment_id,
        summary=f"{unit_short_name}: ý kiến #{comment_id}",
        details={
            "consultation_id": target.consultation_id,
            "clause_id": values["clause_id"],
            "digest": audit.digest(text),
        },
    )
    if target.response_status == ResponseStatus.NOT_STARTED:
        _start_drafting(target)
    return AddedComment(
        id=comment_id,
        consultation_id=target.consultation_id,
        unit_id=target.unit_id,
        unit_name=unit_name,
        clause_id=values["clause_id"],
        clause_label=clause.label if clause is not None else GENERAL_LABEL,
        text=text,
        author_id=actor.id,
        author_name=actor.full_name,
        created_at=moment,
        updated_at=moment,
        lock_version=1,
        proposed_text=proposal,
    )


def _start_drafting(target: CommentTarget) -> None:
    """The unit's first comment moves its response from "not started" to "drafting",
    version-checked as the ORM checks it (`UnitResponse.lock_version`)."""
    table = UnitResponse.__table__
    seen = target.response_lock_version
    changed = db.session.execute(
        update(table)
        .where(table.c.id == target.response_id, table.c.lock_version == seen)
        .values(status=ResponseStatus.DRAFTING, lock_version=(seen or 0) + 1)
    ).rowcount
    if changed != 1:
        # The same error, and so the same 409, as a stale ORM flush of the response.
        raise StaleDataError(
            f"UPDATE statement on table 'unit_responses' expected to update 1 row(s); "
            f"{changed} were matched."
        )


def edit_comment(
    comment: Comment,
    *,
    text: str,
    lock_version: int | None,
    actor: User,
    proposed_text: str | None = None,
) -> Comment:
    """Change a comment's text (and its proposed wording; None leaves that as it is).
    `lock_version` is the version the editor started from; a stale one raises Conflict
    (409) and changes nothing."""
    ensure_can_edit(comment, actor)
    _ensure_lock(comment, lock_version)
    old = comment.text
    comment.set_text(_clean_text(text))
    if proposed_text is not None:
        comment.proposed_text = _clean_proposal(proposed_text, comment.clause)
    audit.record(
        "comment.edit",
        comment,
        actor=actor,
        summary=f"{comment.unit.short_name}: ý kiến #{comment.id}",
        details={"old_digest": audit.digest(old), "digest": audit.digest(comment.text)},
    )
    return comment


def delete_comment(comment: Comment, *, lock_version: int | None, actor: User) -> None:
    ensure_can_edit(comment, actor)
    _ensure_lock(comment, lock_version)
    audit.record(
        "comment.delete",
        comment,
        actor=actor,
        summary=f"{comment.unit.short_name}: ý kiến #{comment.id}",
        details={"digest": audit.digest(comment.text), "clause_id": comment.clause_id},
    )
    db.session.delete(comment)


def record_conference_opinions(
    consultation: Consultation,
    *,
    meeting_date: date,
    meeting_form: str,
    opinions: Sequence[ConferenceOpinion],
    actor: User,
) -> list[Comment]:
    """The drafter records opinions voiced at one meeting, each on behalf of an invited
    unit. They count like written comments and show the meeting as their source."""
    _ensure_manager(consultation, actor)
    _ensure_not_closed(consultation)
    if meeting_date > local_today():
        raise Invalid(_("Ngày họp không được sau ngày hôm nay."))
    meeting_form = " ".join((meeting_form or "").split())
    if not meeting_form:
        raise Invalid(_("Hãy nhập hình thức hội nghị, ví dụ “Hội nghị trực tuyến”."))
    if len(meeting_form) > MAX_MEETING_FORM_LENGTH:
        raise Invalid(
            _(
                "Hình thức hội nghị dài quá %(limit)s ký tự.",
                limit=MAX_MEETING_FORM_LENGTH,
            )
        )
    if not opinions:
        raise Invalid(_("Hãy nhập ít nhất một ý kiến."))
    created: list[Comment] = []
    for opinion in opinions:
        response = consultation.response_for(opinion.unit.id)
        if response is None:
            raise Invalid(
                _(
                    "%(name)s không được mời góp ý trong %(round)s.",
                    name=opinion.unit.name,
                    round=consultation.display_label.lower(),
                )
            )
        check_clause(consultation, opinion.clause)
        comment = Comment(
            consultation=consultation,
            draft_id=consultation.draft_id,
            response=response,
            unit_id=response.unit_id,
            clause=opinion.clause,
            lineage=opinion.clause.lineage if opinion.clause is not None else None,
            author=actor,
            source=CommentSource.CONFERENCE,
            meeting_date=meeting_date,
            meeting_form=meeting_form,
        )
        comment.set_text(_clean_text(opinion.text, what=N_("Nội dung ý kiến")))
        db.session.add(comment)
        created.append(comment)
    db.session.flush()
    audit.record(
        "comment.conference",
        consultation,
        actor=actor,
        summary=f"{consultation.label}: {len(created)} ý kiến tại {meeting_form}",
        details={
            "meeting_date": meeting_date.isoformat(),
            "meeting_form": meeting_form,
            "comments": [c.id for c in created],
        },
    )
    for unit_id in sorted({c.unit_id for c in created}):
        notify(
            _active_users([unit_id], heads_only=True),
            kind="consultation.conference",
            title=Deferred(
                N_("Ý kiến của đơn vị tại %(meeting)s đã được ghi nhận"), meeting=meeting_form
            ),
            body=Deferred(
                N_("%(title)s: ý kiến phát biểu ngày %(day)s được ghi vào %(round)s."),
                title=consultation.draft.title,
                day=meeting_date.strftime("%d/%m/%Y"),
                round=Deferred(ROUND_LABEL, n=consultation.round_number),
            ),
            url=round_path(consultation),
        )
    return created


# --- the unit's position -----------------------------------------------------------------
def position_fingerprint(comments: Iterable[Comment]) -> str:
    """Identifies exactly what a confirmation page showed, so a submit sends that."""
    payload = ";".join(f"{c.id}:{c.lock_version}" for c in sorted(comments, key=lambda c: c.id))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def position_problem(*, agrees: bool, comments: Sequence[Comment]) -> str | None:
    """Why this position cannot be sent as it stands, or None."""
    if agrees and comments:
        return _(
            "Đơn vị đang có %(n)d ý kiến góp ý nên không thể gửi “thống nhất với dự thảo”. "
            "Hãy gửi các ý kiến đó, hoặc xóa chúng trước nếu đơn vị thống nhất.",
            n=len(comments),
        )
    if not agrees and not comments:
        return _(
            "Đơn vị chưa có ý kiến góp ý nào để gửi. Nếu đơn vị thống nhất với dự thảo, "
            "hãy chọn “Thống nhất với dự thảo”."
        )
    return None


def ensure_can_submit(response: UnitResponse, actor: User) -> None:
    if not actor.can_sign_for_unit(response.unit_id):
        raise Forbidden(_("Chỉ Thủ trưởng đơn vị mới gửi ý kiến chính thức của đơn vị."))
    _ensure_accepting(response.consultation)
    if response.is_submitted:
        raise Conflict(
            _(
                "Đơn vị đã gửi ý kiến lúc %(when)s; hãy mở lại ý kiến đã gửi nếu cần sửa.",
                when=format_datetime(response.submitted_at),
            )
        )


def submit_position(
    response: UnitResponse, *, agrees: bool, actor: User, fingerprint: str | None = None
) -> PositionSubmission:
    """The head sends the unit's official position: its comments, or "thống nhất với
    dự thảo" (agrees, no comments). After the unit's deadline it is accepted as late."""
    ensure_can_submit(response, actor)
    comments = unit_written_comments(response)
    problem = position_problem(agrees=agrees, comments=comments)
    if problem:
        raise Invalid(problem)
    if fingerprint is not None and fingerprint != position_fingerprint(comments):
        raise Conflict(
            _(
                "Ý kiến của đơn vị vừa thay đổi sau khi bạn mở trang xác nhận; hãy xem lại "
                "danh sách trước khi gửi."
            )
        )
    moment = now()
    late = moment > response.deadline
    text = load_draft_text(response.consultation.version)
    snapshot = [
        {
            "comment_id": c.id,
            "clause_id": c.clause_id,
            "lineage": c.lineage,
            "label": text.label(c.clause_id),
            "text": c.text,
            "author": c.author.full_name,
        }
        for c in sorted(
            comments,
            key=lambda c: (text.position(c.clause_id), c.id),
        )
    ]
    response.status = ResponseStatus.SUBMITTED
    response.agrees_without_comments = agrees
    response.submitted_at = moment
    response.submitted_by = actor
    submission = PositionSubmission(
        response=response,
        action="submit",
        at=moment,
        by=actor,
        agrees_without_comments=agrees,
        late=late,
        snapshot=snapshot,
    )
    db.session.add(submission)
    what = "thống nhất với dự thảo" if agrees else f"{len(comments)} ý kiến góp ý"
    audit.record(
        "position.submit",
        response,
        actor=actor,
        summary=f"{response.unit.short_name}: {what}" + (" (gửi muộn)" if late else ""),
        details={"agrees": agrees, "late": late, "comments": [c.id for c in comments]},
    )
    consultation = response.consultation
    notify(
        _drafters(consultation.draft),
        kind="consultation.position",
        title=Deferred(
            N_("%(unit)s đã gửi ý kiến (gửi muộn)") if late else N_("%(unit)s đã gửi ý kiến"),
            unit=response.unit.name,
        ),
        body=Deferred(
            N_("%(title)s, %(round)s: %(what)s."),
            title=consultation.draft.title,
            round=Deferred(ROUND_LABEL, n=consultation.round_number),
            what=Deferred(N_("thống nhất với dự thảo"))
            if agrees
            else Deferred(N_("%(n)d ý kiến góp ý"), n=len(comments)),
        ),
        url=round_path(consultation),
    )
    return submission


def ensure_can_reopen(response: UnitResponse, actor: User) -> None:
    if not actor.can_sign_for_unit(response.unit_id):
        raise Forbidden(_("Chỉ Thủ trưởng đơn vị mới mở lại ý kiến đã gửi."))
    _ensure_accepting(response.consultation)
    if not response.is_submitted:
        raise Conflict(_("Đơn vị chưa gửi ý kiến nên không có gì để mở lại."))
    if now() > response.deadline:
        raise Conflict(
            _(
                "Đã hết hạn góp ý của đơn vị (%(when)s); không thể mở lại ý kiến đã gửi.",
                when=format_datetime(response.deadline),
            )
        )


def reopen_position(response: UnitResponse, *, actor: User) -> PositionSubmission:
    """Before the unit's deadline, the head takes the sent position back to change it.
    The earlier submission stays in the history."""
    ensure_can_reopen(response, actor)
    response.status = ResponseStatus.DRAFTING
    response.agrees_without_comments = False
    response.submitted_at = None
    response.submitted_by = None
    entry = PositionSubmission(response=response, action="reopen", at=now(), by=actor)
    db.session.add(entry)
    audit.record(
        "position.reopen", response, actor=actor, summary=f"{response.unit.short_name}: mở lại"
    )
    consultation = response.consultation
    notify(
        _drafters(consultation.draft),
        kind="consultation.position",
        title=Deferred(N_("%(unit)s đã mở lại ý kiến để chỉnh sửa"), unit=response.unit.name),
        body=Deferred(
            N_("%(title)s, %(round)s."),
            title=consultation.draft.title,
            round=Deferred(ROUND_LABEL, n=consultation.round_number),
        ),
        url=round_path(consultation),
    )
    return entry


def extend_deadline(response: UnitResponse, *, deadline: datetime, actor: User) -> UnitResponse:
    """Give one unit more time (deadline_override); the round's own deadline stays."""
    consultation = response.consultation
    _ensure_manager(consultation, actor)
    _ensure_not_closed(consultation)
    if deadline.tzinfo is None:
        raise Invalid(_("Hạn mới phải có múi giờ."))
    if deadline <= now():
        raise Invalid(_("Hạn mới phải là một thời điểm trong tương lai."))
    if deadline <= consultation.closes_at:
        raise Invalid(
            _(
                "Hạn mới phải sau hạn chung của đợt lấy ý kiến (%(when)s).",
                when=format_datetime(consultation.closes_at),
            )
        )
    old = response.deadline
    response.deadline_override = deadline
    audit.record(
        "position.extend",
        response,
        actor=actor,
        summary=f"{response.unit.short_name}: {format_datetime(old)} → {format_datetime(deadline)}",
        details={"from": old.isoformat(), "to": deadline.isoformat()},
    )
    notify(
        _active_users([response.unit_id]),
        kind="consultation.extended",
        title=Deferred(N_("Gia hạn góp ý: %(title)s"), title=consultation.draft.title),
        body=Deferred(
            N_("Hạn góp ý của đơn vị được gia hạn đến %(due)s."), due=format_datetime(deadline)
        ),
        url=round_path(consultation),
    )
    return response


# --- closing -------------------------------------------------------------------------------
def close_round(consultation: Consultation, actor: User | None = None) -> Consultation:
    """End the round (the drafter, or the system when `actor` is None): from now on
    everything in it is read-only, and the draft moves to "Hết hạn góp ý"."""
    if actor is not None:
        _ensure_manager(consultation, actor)
    if consultation.closed_at is not None:
        raise Conflict(
            _(
                "%(label)s đã kết thúc lúc %(when)s.",
                label=consultation.display_label,
                when=format_datetime(consultation.closed_at),
            )
        )
    apply_draft_action(consultation.draft, "close_consultation", actor)
    consultation.closed_at = now()
    waiting = [r.unit.short_name for r in consultation.responses if not r.is_submitted]
    audit.record(
        "consultation.close",
        consultation,
        actor=actor,
        summary=f"{consultation.draft.title}: kết thúc {consultation.label.lower()}",
        details={"without_position": waiting},
    )
    notify(
        _active_users(r.unit_id for r in consultation.responses),
        kind="consultation.closed",
        title=Deferred(N_("Kết thúc lấy ý kiến: %(title)s"), title=consultation.draft.title),
        body=Deferred(
            N_("%(round)s đã kết thúc; ý kiến không còn được thêm hoặc sửa."),
            round=Deferred(ROUND_LABEL, n=consultation.round_number),
        ),
        url=round_path(consultation),
    )
    return consultation
