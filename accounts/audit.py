"""The one way to write an audit row. Operations call it; nothing else writes them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_

from accounts.i18n import N_
from accounts.models import AuditEntry, User
from extensions import db

# What each action code means, as the audit page shows it (translated there). The codes
# stay in the rows and in the filter: they are what an export or a query matches on.
ACTION_LABELS = {
    "user.login": N_("Đăng nhập"),
    "user.password": N_("Đổi mật khẩu"),
    "user.notify_mode": N_("Đổi cách nhận nhắc việc"),
    "user.locale": N_("Đổi ngôn ngữ"),
    "user.end_sessions": N_("Đăng xuất khỏi mọi thiết bị"),
    "user.invite": N_("Mời người dùng"),
    "user.invitation_accept": N_("Nhận lời mời, đặt mật khẩu"),
    "user.password_reset_request": N_("Yêu cầu đặt lại mật khẩu"),
    "user.password_reset": N_("Đặt lại mật khẩu qua e-mail"),
    "document_signer.update": N_("Đổi người ký văn bản"),
    "user.create": N_("Tạo người dùng"),
    "user.update": N_("Sửa người dùng"),
    "token.create": N_("Tạo mã truy cập API"),
    "token.revoke": N_("Thu hồi mã truy cập API"),
    "unit.create": N_("Thêm đơn vị"),
    "unit.rename": N_("Sửa đơn vị"),
    "unit.retire": N_("Ngừng hoạt động đơn vị"),
    "unit.merge": N_("Sáp nhập đơn vị"),
    "unit.eligibility": N_("Ghi nhận điều kiện xét thi đua"),
    "year.create": N_("Tạo năm thi đua"),
    "group.create": N_("Tạo Cụm/Khối"),
    "group.members": N_("Sửa thành viên Cụm/Khối"),
    "group.leadership": N_("Chọn Cụm/Khối trưởng, phó"),
    "draft.create": N_("Tạo dự thảo"),
    "draft.adopted": N_("Ban hành dự thảo"),
    "draft.open_consultation": N_("Dự thảo: lấy ý kiến góp ý"),
    "draft.close_consultation": N_("Dự thảo: kết thúc lấy ý kiến"),
    "draft.start_consolidation": N_("Dự thảo: bắt đầu tổng hợp"),
    "draft.revise": N_("Dự thảo: hoàn thành chỉnh lý"),
    "draft.adopt": N_("Dự thảo: thông qua, ban hành"),
    "version.create": N_("Tạo phiên bản"),
    "version.import": N_("Nhập phiên bản từ tệp"),
    "version.publish": N_("Phát hành phiên bản"),
    "version.discard": N_("Xóa phiên bản"),
    "version.renumber": N_("Đánh số lại"),
    "clause.add": N_("Thêm điều khoản"),
    "clause.edit": N_("Sửa điều khoản"),
    "clause.move": N_("Chuyển điều khoản"),
    "clause.delete": N_("Xóa điều khoản"),
    "consultation.open": N_("Mở đợt lấy ý kiến"),
    "consultation.close": N_("Kết thúc đợt lấy ý kiến"),
    "consultation.attachment": N_("Đính kèm tài liệu"),
    "comment.create": N_("Thêm ý kiến góp ý"),
    "comment.edit": N_("Sửa ý kiến góp ý"),
    "comment.delete": N_("Xóa ý kiến góp ý"),
    "comment.conference": N_("Ghi ý kiến tại hội nghị"),
    "conference.create": N_("Tổ chức hội nghị lấy ý kiến"),
    "conference.update": N_("Sửa thông tin hội nghị"),
    "conference.secretaries": N_("Phân công thư ký hội nghị"),
    "conference.attendance": N_("Ghi đơn vị dự hội nghị"),
    "conference.opinion": N_("Thư ký ghi ý kiến phát biểu tại hội nghị"),
    "conference.opinion_delete": N_("Xóa ý kiến phát biểu ghi nhầm tại hội nghị"),
    "conference.current_clause": N_("Chọn điều khoản trình chiếu tại hội nghị"),
    "conference.conclusions": N_("Ghi kết luận hội nghị"),
    "comment.import": N_("Nhập ý kiến từ tệp của đơn vị"),
    "comment.apply_proposal": N_("Áp dụng đề xuất sửa đổi vào dự thảo"),
    "position.submit": N_("Gửi ý kiến của đơn vị"),
    "position.reopen": N_("Mở lại để sửa ý kiến"),
    "position.extend": N_("Gia hạn góp ý cho đơn vị"),
    "disposition.create": N_("Tiếp thu, giải trình"),
    "disposition.update": N_("Sửa tiếp thu, giải trình"),
    "change_link.create": N_("Liên kết chỉnh sửa với góp ý"),
    "change_link.delete": N_("Bỏ liên kết chỉnh sửa"),
    "period.open": N_("Mở kỳ chấm điểm"),
    "period.bands": N_("Sửa mức xếp loại"),
    "period.publish": N_("Công bố kết quả"),
    "period.unpublish": N_("Thu hồi công bố kết quả"),
    "sheet.scores": N_("Nhập điểm"),
    "sheet.confirm_scores": N_("Xác nhận điểm"),
    "sheet.add_bonus": N_("Thêm điểm thưởng"),
    "sheet.add_deduction": N_("Thêm điểm trừ"),
    "sheet.remove_bonus": N_("Bỏ điểm thưởng"),
    "sheet.remove_deduction": N_("Bỏ điểm trừ"),
    "sheet.evidence_upload": N_("Tải minh chứng"),
    "sheet.evidence_delete": N_("Xóa minh chứng"),
    "sheet.extend_deadline": N_("Gia hạn phiếu chấm điểm"),
    "sheet.disqualify": N_("Không xét thi đua"),
    "sheet.clear_disqualification": N_("Bỏ không xét thi đua"),
    "reminders.send_now": N_("Gửi nhắc việc ngay"),
    "reminders.retry_mail": N_("Gửi lại thư"),
    "job.start": N_("Bắt đầu việc chạy nền"),
    "job.failed": N_("Việc chạy nền không thành công"),
}
# Codes made from data (a period's own steps): named by what they act on.
ACTION_PREFIX_LABELS = {
    "sheet.": N_("Phiếu chấm điểm: chuyển bước"),
    "draft.": N_("Dự thảo: chuyển trạng thái"),
}


def action_label(code: str) -> str | None:
    """The untranslated label of an audit action code, or None for an unknown code."""
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    for prefix, label in ACTION_PREFIX_LABELS.items():
        if code.startswith(prefix):
            return label
    return None


def record(
    action: str,
    obj: Any = None,
    *,
    actor: User | None,
    summary: str = "",
    details: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditEntry:
    """Add an audit row to the current transaction (it commits, or rolls back, with it)."""
    if obj is not None:
        if obj.id is None:
            db.session.flush()
        object_type = object_type or obj.__tablename__
        object_id = obj.id
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        summary=summary,
        details=details or {},
    )
    db.session.add(entry)
    return entry


def digest(text: str) -> str:
    """What an audit row keeps of user text that has its own visibility (a comment):
    enough to tell whether two versions are the same, nothing to read the text from.
    The audit log is read by people who may not see the text itself."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_INSERT = insert(AuditEntry.__table__)


def record_row(
    action: str,
    *,
    actor_id: int | None,
    object_type: str,
    object_id: int | None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """`record` as one plain INSERT, sent at once, in the same transaction.

    For the busiest writes (a comment through the API), which add no ORM objects: an
    added `AuditEntry` would cost them a unit-of-work flush at commit, and on SQLite
    that flush runs while the write lock is held.
    """
    db.session.execute(
        _INSERT,
        {
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "summary": summary,
            "details": details or {},
        },
    )


# A package above accounts (comments) decides who may read the rows about its objects;
# accounts cannot import it, so it registers one WHERE clause per object type here.
AuditReaders = Callable[[User], ColumnElement[bool]]
_READERS: dict[str, AuditReaders] = {}


def restrict_readers(object_type: str) -> Callable[[AuditReaders], AuditReaders]:
    """Decorator: the rows about `object_type` are readable only where `rule(user)` holds."""

    def register(rule: AuditReaders) -> AuditReaders:
        _READERS[object_type] = rule
        return rule

    return register


def readable_by(user: User) -> ColumnElement[bool]:
    """The audit rows `user` may read, as a WHERE clause evaluated by the database.

    Rows about an object type with registered readers (comments and dispositions: see
    comments.consultation.queries; score sheets: see workflow.queries) follow that rule;
    every other row is readable.
    """
    rules = dict(_READERS)
    return or_(
        AuditEntry.object_type.not_in(tuple(rules)),
        *(and_(AuditEntry.object_type == kind, rule(user)) for kind, rule in rules.items()),
    )
