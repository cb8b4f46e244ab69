"""Consolidation: the drafter's answers to a round's comments and the links from a later
version's changed clauses back to those comments (what they read is in
comments.consolidation.queries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from accounts import audit
from accounts.clock import now
from accounts.errors import Conflict, Forbidden, Invalid
from accounts.i18n import N_
from accounts.models import User
from accounts.officedoc import valid_symbol
from comments.consolidation.queries import is_consolidated
from comments.consultation.models import (
    DECISION_LABELS,
    ChangeLink,
    Comment,
    Consultation,
    Decision,
    Disposition,
    UnitResponse,
)
from drafts import operations as draft_operations
from drafts.lifecycle import apply_draft_action, can_apply
from drafts.markup import split_wording
from drafts.models import Clause, Draft, DraftState
from extensions import db
from workflow.engine import TransitionRecord

EXPLANATION_REQUIRED = {
    Decision.PARTLY: N_(
        "Tiếp thu một phần: cần nêu rõ phần được tiếp thu và lý do không tiếp thu phần còn lại."
    ),
    Decision.REJECTED: N_("Không tiếp thu: cần nêu lý do không tiếp thu."),
    Decision.EXPLAINED: N_("Giải trình: cần nhập nội dung giải trình."),
}
STALE_ANSWER = N_(
    "Câu trả lời cho ý kiến này vừa được người khác thay đổi. Nội dung bạn nhập vẫn được giữ "
    "nguyên; hãy xem câu trả lời hiện tại rồi bấm lưu lại nếu vẫn muốn thay đổi."
)


# --------------------------------------------------------------------------- permissions


def can_view_rounds(draft: Draft, user: User) -> bool:
    """The rounds history and reports, like `Consultation.can_track` for one round."""
    return draft.is_drafter(user) or user.can_administer()


def can_consolidate(consultation: Consultation, user: User) -> bool:
    """The drafters answer comments once the round is closed, until the draft is adopted."""
    return consultation.can_manage(user) and why_not_consolidate(consultation) is None


def can_start_consolidation(consultation: Consultation, user: User) -> bool:
    return consultation.closed_at is not None and can_apply(
        consultation.draft, "start_consolidation", user
    )


def can_download_letter(response: UnitResponse, user: User) -> bool:
    """A unit's formal letter: its own people and the draft's drafters."""
    return (
        user.can_work_for_unit(response.unit_id)
        or response.consultation.is_drafter(user)
        or user.can_administer()
    )


def can_link_changes(draft: Draft, user: User) -> bool:
    return draft.can_edit(user)


# --------------------------------------------------------------------------- operations


def start_consolidation(consultation: Consultation, actor: User) -> TransitionRecord:
    """Move the draft to "Đang tổng hợp" once the round is closed."""
    if consultation.closed_at is None:
        raise Conflict(
            _("Lần lấy ý kiến này chưa kết thúc; hãy kết thúc lấy ý kiến trước khi tổng hợp.")
        )
    return apply_draft_action(consultation.draft, "start_consolidation", actor)


def dispose(
    comments: Sequence[Comment],
    decision: Decision | str,
    explanation: str,
    actor: User,
    expected_versions: Mapping[int, int] | None = None,
) -> Disposition:
    """Record one answer for the selected comments (identical comments share one).

    `expected_versions` maps each existing answer the user was looking at (Disposition id)
    to the lock_version they saw; an answer changed or added since raises `Conflict`.
    When the selection is exactly the comments of one existing answer, that answer is
    updated; otherwise the comments get a new answer and leave their old ones (an old
    answer left with no comments is deleted).
    """
    if not comments:
        raise Invalid(_("Hãy chọn ít nhất một ý kiến để trả lời."))
    consultation = _single_consultation(comments)
    ensure_can_consolidate(consultation, actor)
    decision = _decision(decision)
    explanation = (explanation or "").strip()
    if decision != Decision.ACCEPTED and not explanation:
        raise Invalid(_(EXPLANATION_REQUIRED[decision]))
    for comment in comments:
        if not is_consolidated(comment):
            raise Invalid(
                _(
                    "Chỉ tổng hợp ý kiến đơn vị đã gửi chính thức hoặc ý kiến tại hội nghị; ý "
                    "kiến của %(unit)s chưa được gửi.",
                    unit=comment.unit.name,
                )
            )
    _check_expected(comments, expected_versions or {})

    selected = {c.id for c in comments}
    previous = {c.disposition for c in comments if c.disposition is not None}
    if len(previous) == 1:
        (only,) = previous
        if {c.id for c in only.comments} == selected:
            return _update(only, decision, explanation, actor)

    disposition = Disposition(
        consultation_id=consultation.id,
        decision=decision,
        explanation=explanation,
        decided_by=actor,
        decided_at=now(),
    )
    db.session.add(disposition)
    leftovers = {old: [c for c in old.comments if c.id not in selected] for old in previous}
    for comment in comments:
        comment.disposition = disposition
    for old, remaining in leftovers.items():
        if remaining:
            # Its set of comments changed: bump its version so a stale edit of it is refused.
            flag_modified(old, "explanation")
        else:
            db.session.delete(old)
    _flush()
    audit.record(
        "disposition.create",
        disposition,
        actor=actor,
        summary=f"{DECISION_LABELS[decision]}: {len(comments)} ý kiến",
        details={"comment_ids": sorted(selected), "decision": decision.value},
    )
    return disposition


def _update(
    disposition: Disposition, decision: Decision, explanation: str, actor: User
) -> Disposition:
    disposition.decision = decision
    disposition.explanation = explanation
    disposition.decided_by = actor
    disposition.decided_at = now()
    _flush()
    audit.record(
        "disposition.update",
        disposition,
        actor=actor,
        summary=f"{DECISION_LABELS[decision]}: {len(disposition.comments)} ý kiến",
        details={
            "comment_ids": sorted(c.id for c in disposition.comments),
            "decision": decision.value,
        },
    )
    return disposition


def _flush() -> None:
    # Two drafters saving the same answer at the same moment: the version check at flush
    # catches what the comparison with expected_versions could not.
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(_(STALE_ANSWER)) from exc


def _single_consultation(comments: Sequence[Comment]) -> Consultation:
    ids = {c.consultation_id for c in comments}
    if len(ids) != 1:
        raise Invalid(_("Các ý kiến được chọn phải thuộc cùng một lần lấy ý kiến."))
    return comments[0].consultation


def ensure_can_consolidate(consultation: Consultation, actor: User) -> None:
    if not consultation.can_manage(actor):
        raise Forbidden(_("Chỉ cán bộ soạn thảo của dự thảo này mới được tổng hợp ý kiến."))
    reason = why_not_consolidate(consultation)
    if reason:
        raise Conflict(reason)


def why_not_consolidate(consultation: Consultation) -> str | None:
    """Why the drafters cannot answer comments now (None when they can)."""
    draft = consultation.draft
    if draft.state == DraftState.ADOPTED:
        return _("Dự thảo đã được ban hành; không thể thay đổi việc tiếp thu, giải trình.")
    if consultation.closed_at is None and draft.state != DraftState.CONSOLIDATING:
        return _(
            "Chỉ tổng hợp, trả lời ý kiến sau khi đã kết thúc lấy ý kiến "
            "(hoặc khi dự thảo đang ở trạng thái “Đang tổng hợp”)."
        )
    return None


def _decision(value: Decision | str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        raise Invalid(
            _(
                "Hãy chọn một quyết định: tiếp thu, tiếp thu một phần, không tiếp thu hoặc "
                "giải trình."
            )
        ) from None


def _check_expected(comments: Sequence[Comment], expected: Mapping[int, int]) -> None:
    for comment in comments:
        current = comment.disposition
        if current is None:
            continue
        if expected.get(current.id) != current.lock_version:
            raise Conflict(_(STALE_ANSWER))


def expected_versions_of(comments: Iterable[Comment]) -> dict[int, int]:
    """What a form showing these comments must send back to `dispose`."""
    return {
        c.disposition.id: c.disposition.lock_version for c in comments if c.disposition is not None
    }


def link_change(clause: Clause, comments: Iterable[Comment], actor: User) -> list[ChangeLink]:
    """Record that a clause of a later version answers these comments (idempotent)."""
    comments = list(comments)
    draft = _check_linkable(clause, comments, actor)
    linked = set(
        db.session.scalars(select(ChangeLink.comment_id).where(ChangeLink.clause_id == clause.id))
    )
    created = [
        ChangeLink(clause_id=clause.id, comment_id=c.id, created_by_id=actor.id)
        for c in comments
        if c.id not in linked
    ]
    db.session.add_all(created)
    if created:
        audit.record(
            "change_link.create",
            clause,
            actor=actor,
            summary=f"{draft.title}: {clause.version.label}, {len(created)} ý kiến",
            details={"comment_ids": [link.comment_id for link in created]},
        )
    return created


def apply_proposal(comment: Comment, actor: User) -> Clause:
    """Write the unit's proposed wording into the draft's next version (started from the
    latest published one if none is being written) and link the changed clause to the
    comment, as a drafter's own edit and link would."""
    draft = comment.consultation.draft
    if not can_link_changes(draft, actor):
        raise Forbidden(_("Chỉ cán bộ soạn thảo của dự thảo này mới áp dụng được đề xuất sửa đổi."))
    if not comment.proposed_text or comment.lineage is None:
        raise Invalid(_("Ý kiến này không có đề xuất sửa đổi cho một điều khoản."))
    if not is_consolidated(comment):
        raise Invalid(_("Chỉ áp dụng đề xuất trong ý kiến đơn vị đã gửi chính thức."))
    version = draft.latest_version
    if version is None or version.is_published:
        version = draft_operations.new_version(draft, actor=actor)
        db.session.flush()
    if version.number <= comment.consultation.version.number:
        raise Conflict(
            _(
                "%(version)s không phải là phiên bản sau %(earlier)s.",
                version=version.display_label,
                earlier=comment.consultation.version.display_label,
            )
        )
    clause = db.session.scalar(
        select(Clause).where(Clause.version_id == version.id, Clause.lineage == comment.lineage)
    )
    if clause is None:
        raise Conflict(
            _(
                "Điều khoản của ý kiến này không còn trong %(version)s; hãy sửa trực tiếp.",
                version=version.display_label,
            )
        )
    title, text = split_wording(clause.kind, clause.number, comment.proposed_text)
    fields = draft_operations.ClauseFields(
        kind=clause.kind,
        number=clause.number,
        title=clause.title if title is None else title,
        text=text,
        max_points=clause.max_points,
        guidance=clause.guidance,
    )
    draft_operations.edit_clause(clause, fields, actor=actor, lock_version=None)
    link_change(clause, [comment], actor)
    audit.record(
        "comment.apply_proposal",
        comment,
        actor=actor,
        summary=f"{draft.title}: {version.label}, {clause.heading} theo ý kiến #{comment.id}",
        details={"clause_id": clause.id, "version_id": version.id},
    )
    return clause


def unlink_change(clause: Clause, comments: Iterable[Comment], actor: User) -> int:
    """Remove links between the clause and these comments; returns how many went."""
    comments = list(comments)
    draft = _check_linkable(clause, comments, actor)
    ids = {c.id for c in comments}
    links = db.session.scalars(
        select(ChangeLink).where(ChangeLink.clause_id == clause.id, ChangeLink.comment_id.in_(ids))
    ).all()
    for link in links:
        db.session.delete(link)
    if links:
        audit.record(
            "change_link.delete",
            clause,
            actor=actor,
            summary=f"{draft.title}: {clause.version.label}, {len(links)} ý kiến",
            details={"comment_ids": sorted(link.comment_id for link in links)},
        )
    return len(links)


def set_change_links(clause: Clause, comments: Iterable[Comment], actor: User) -> None:
    """Make the clause's links exactly these comments (the link page's checkboxes)."""
    wanted = {c.id: c for c in comments}
    linked = {
        link.comment_id: link
        for link in db.session.scalars(
            select(ChangeLink)
            .options(joinedload(ChangeLink.comment))
            .where(ChangeLink.clause_id == clause.id)
        )
    }
    gone = [link.comment for comment_id, link in linked.items() if comment_id not in wanted]
    if gone:
        unlink_change(clause, gone, actor)
    link_change(clause, [c for i, c in wanted.items() if i not in linked], actor)


def _check_linkable(clause: Clause, comments: Sequence[Comment], actor: User) -> Draft:
    version = clause.version
    draft = version.draft
    if not can_link_changes(draft, actor):
        raise Forbidden(_("Chỉ cán bộ soạn thảo của dự thảo này mới được liên kết thay đổi."))
    for comment in comments:
        if comment.draft_id != draft.id:
            raise Invalid(_("Ý kiến được chọn không thuộc dự thảo này."))
        if comment.consultation.version.number >= version.number:
            raise Invalid(
                _(
                    "Chỉ liên kết %(version)s với ý kiến góp ý trên các dự thảo trước đó.",
                    version=version.display_label,
                )
            )
        if not is_consolidated(comment):
            raise Invalid(_("Chỉ liên kết với ý kiến đơn vị đã gửi chính thức."))
    return draft


# --- document symbols -------------------------------------------------------------------------


def remember_symbol(
    consultation: Consultation, document: str, symbol: str | None, actor: User
) -> str | None:
    """The symbol to print on the round's `document` ("report" or "comparison"): the one just
    given (validated, then remembered for the round), else the one remembered before."""
    attribute = f"{document}_symbol"
    if symbol is None or not symbol.strip():
        return getattr(consultation, attribute)
    symbol = checked_symbol(symbol)
    if getattr(consultation, attribute) != symbol:
        setattr(consultation, attribute, symbol)
        audit.record(
            f"consultation.{document}_symbol",
            consultation,
            actor=actor,
            summary=symbol,
            details={"symbol": symbol},
        )
    return symbol


def checked_symbol(symbol: str) -> str:
    symbol = symbol.strip().upper()
    if not valid_symbol(symbol):
        raise Invalid(
            _(
                "Số, ký hiệu văn bản không hợp lệ: ghi như “15/BC-VP” hoặc “/BC-VP” "
                "(chữ in hoa, chữ số và dấu gạch nối, tối đa 40 ký tự)."
            )
        )
    return symbol
