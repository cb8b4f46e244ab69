"""Verb-named operations on drafts and versions. They write the audit row; the
caller commits once.

A version is edited only while unpublished; publishing freezes it. Every edit of a
version's clause tree checks and bumps `Version.lock_version`, so two drafters
editing the same version cannot overwrite each other silently.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified

from accounts import audit
from accounts.clock import now
from accounts.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from accounts.i18n import N_, Deferred, note_text, refusal
from accounts.models import Role, Unit, User, UserRole
from drafts import sandbox, tree
from drafts.criteria_parsing import SheetTooLarge
from drafts.formats import identify
from drafts.lifecycle import DRAFT_MACHINE, apply_draft_action
from drafts.models import (
    VERSION_LABEL,
    Clause,
    ClauseKind,
    Draft,
    DraftDrafter,
    DraftKind,
    DraftState,
    Version,
    VersionStatus,
    new_lineage,
)
from drafts.officefile import note_from_json, note_json
from drafts.parsing import ParseError
from extensions import db
from notices.notify import notify
from tasks.background import kept_import

REGULATION_KINDS = (
    ClauseKind.PART,
    ClauseKind.CHAPTER,
    ClauseKind.SECTION,
    ClauseKind.SUBSECTION,
    ClauseKind.ARTICLE,
    ClauseKind.CLAUSE,
    ClauseKind.POINT,
    ClauseKind.PARAGRAPH,
)
CRITERIA_KINDS = (ClauseKind.CRITERION, ClauseKind.BONUS, ClauseKind.DEDUCTION)
# Nesting order of a regulation: a provision sits under one of a higher level.
_RANK = {kind: rank for rank, kind in enumerate(REGULATION_KINDS)}
MAX_NUMBER_LENGTH = 20


# --- drafts ------------------------------------------------------------------------------
def create_draft(
    *,
    title: str,
    kind: DraftKind,
    drafting_unit: Unit,
    actor: User,
    drafters: Iterable[User] = (),
) -> Draft:
    title = title.strip()
    if not title:
        raise Invalid(_("Tên dự thảo là bắt buộc."))
    if len(title) > 500:
        raise Invalid(_("Tên dự thảo dài quá 500 ký tự."))
    co_drafters = list(drafters)
    not_drafters = [u.full_name for u in co_drafters if not u.can_draft()]
    if not_drafters:
        raise Invalid(
            _(
                "Chỉ chọn được người có vai trò cán bộ soạn thảo làm đồng soạn thảo: %(names)s.",
                names=", ".join(not_drafters),
            )
        )
    draft = Draft(title=title, kind=kind, drafting_unit=drafting_unit, created_by=actor)
    members = {actor.id: actor, **{u.id: u for u in co_drafters}}
    draft.drafters = [DraftDrafter(user=u) for u in members.values()]
    db.session.add(draft)
    audit.record(
        "draft.create",
        draft,
        actor=actor,
        summary=title,
        details={"kind": kind.value, "drafters": sorted(members)},
    )
    notify(
        [u for u in co_drafters if u.id != actor.id],
        kind="draft.co_drafter",
        title=Deferred(N_("Bạn được phân công cùng soạn thảo: %(title)s"), title=title),
        body=Deferred(
            N_("%(name)s đã tạo dự thảo và phân công bạn cùng soạn thảo."), name=actor.full_name
        ),
        url=draft_path(draft),
    )
    return draft


def draft_path(draft: Draft) -> str:
    """The draft's page, as a path (also outside a request: the demo, the scans)."""
    adapter = current_app.url_map.bind("localhost")
    return adapter.build("drafts.show", {"draft_id": draft.id})


def drafter_candidates() -> list[User]:
    """Users who may be chosen as co-drafters: active, with the drafter role."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.DRAFTER, User.active)
            .order_by(User.full_name)
        )
    )


def visible_drafts(user: User) -> list[Draft]:
    """The drafts list: what `Draft.can_view` lets this user see, newest first, with what
    the list shows loaded up front (a constant number of queries)."""
    query = select(Draft).options(
        joinedload(Draft.drafting_unit),
        selectinload(Draft.versions),
        selectinload(Draft.drafters),
    )
    if not user.can_administer():
        mine = exists().where(DraftDrafter.draft_id == Draft.id, DraftDrafter.user_id == user.id)
        query = query.where(or_(Draft.state != DraftState.DRAFT, mine))
    return list(db.session.scalars(query.order_by(Draft.created_at.desc(), Draft.id.desc())))


def adopted_criteria_drafts() -> list[Draft]:
    """Adopted criteria tables, newest decision first: what a scoring period is built on.

    Each draft's `adopted_version` is the version to score against.
    """
    return list(
        db.session.scalars(
            select(Draft)
            .where(Draft.kind == DraftKind.CRITERIA, Draft.state == DraftState.ADOPTED)
            .options(joinedload(Draft.adopted_version), joinedload(Draft.drafting_unit))
            .order_by(Draft.decision_date.desc(), Draft.id.desc())
        ).unique()
    )


def _ensure_not_adopted(draft: Draft) -> None:
    if draft.state == DraftState.ADOPTED:
        if draft.decision_number:
            raise Conflict(
                _(
                    "Dự thảo đã được ban hành (Quyết định số %(number)s); không thể sửa đổi.",
                    number=draft.decision_number,
                )
            )
        raise Conflict(_("Dự thảo đã được ban hành; không thể sửa đổi."))


# --- versions ----------------------------------------------------------------------------
def add_clauses(version: Version, nodes: Sequence[Mapping[str, Any]]) -> list[Clause]:
    """Append a parsed tree (the `drafts parse` / `criteria parse` node shape) to a
    version, in document order. Lineage keys are taken from nodes that carry one
    (a copied version) and minted otherwise."""
    created: list[Clause] = []
    seq = len(version.clauses)

    def walk(items: Sequence[Mapping[str, Any]], parent: Clause | None, depth: int) -> None:
        nonlocal seq
        for node in items:
            points = node.get("max_points")
            clause = Clause(
                version=version,
                parent=parent,
                seq=seq,
                depth=depth,
                kind=ClauseKind(node["kind"]),
                number=str(node.get("number", node.get("code", "")) or ""),
                title=node.get("title", "") or "",
                text=node.get("text", "") or "",
                max_points=Decimal(str(points)) if points is not None else None,
                guidance=node.get("guidance", "") or "",
                lineage=node.get("lineage") or new_lineage(),
            )
            seq += 1
            created.append(clause)
            walk(node.get("children", []), clause, depth + 1)

    walk(nodes, None, 0)
    db.session.add_all(created)
    return created


def ensure_can_add_version(draft: Draft) -> None:
    """A new version needs a draft that is not adopted and no version still being written."""
    _ensure_not_adopted(draft)
    if draft.latest_version is not None and not draft.latest_version.is_published:
        raise Conflict(
            _(
                "%(label)s chưa được phát hành; hãy phát hành hoặc xóa phiên bản đó trước khi "
                "tạo phiên bản mới.",
                label=draft.latest_version.display_label,
            )
        )


def create_version(
    draft: Draft,
    *,
    actor: User,
    nodes: Sequence[Mapping[str, Any]] = (),
    source_filename: str | None = None,
    based_on: Version | None = None,
) -> Version:
    ensure_can_add_version(draft)
    number = (draft.latest_version.number + 1) if draft.latest_version else 1
    version = Version(
        draft=draft,
        number=number,
        created_by=actor,
        source_filename=source_filename,
        based_on=based_on,
    )
    db.session.add(version)
    add_clauses(version, nodes)
    audit.record(
        "version.create",
        version,
        actor=actor,
        summary=f"{draft.title}: {version.label}",
        details={"source_filename": source_filename, "based_on": based_on.id if based_on else None},
    )
    return version


def publish_version(version: Version, *, actor: User, lock_version: int | None = None) -> Version:
    """Freeze a version: from now on its text never changes."""
    _ensure_not_adopted(version.draft)
    if version.is_published:
        raise Conflict(_("%(label)s đã được phát hành.", label=version.display_label))
    check_lock(version, lock_version)
    if not version.clauses:
        raise Invalid(_("Không thể phát hành một phiên bản chưa có nội dung."))
    version.status = VersionStatus.PUBLISHED
    version.published_at = now()
    audit.record("version.publish", version, actor=actor, summary=version.label)
    return version


def new_version(draft: Draft, *, actor: User, note: str = "") -> Version:
    """Start "Dự thảo lần n+1" as a copy of the latest published version.

    Clauses keep their lineage keys, so comments and the diff follow them. The draft's
    state does not change here; `finish_revision` publishes the new version.
    """
    _ensure_not_adopted(draft)
    base = latest_published(draft)
    if base is None:
        raise Conflict(_("Dự thảo chưa có phiên bản nào được phát hành để làm cơ sở."))
    nodes = tree.to_nodes(tree.load_version_tree(base), keep_lineage=True)
    version = create_version(draft, actor=actor, nodes=nodes, based_on=base)
    version.note = note.strip()
    return version


def discard_version(version: Version, *, actor: User) -> None:
    """Throw away an unpublished version (a wrong import, an abandoned revision)."""
    draft = version.draft
    _ensure_not_adopted(draft)
    if version.is_published:
        raise Conflict(
            _("%(label)s đã được phát hành; không thể xóa.", label=version.display_label)
        )
    audit.record("version.discard", version, actor=actor, summary=f"{draft.title}: {version.label}")
    db.session.delete(version)
    db.session.flush()
    db.session.expire(draft, ["versions"])


def latest_published(draft: Draft) -> Version | None:
    published = [v for v in draft.versions if v.is_published]
    return published[-1] if published else None


def finish_revision(draft: Draft, actor: User, note: str | None = None) -> Version:
    """The drafter has finished "Dự thảo lần n+1": publish it and move the draft to
    "Đã chỉnh lý" (the lifecycle's "revise")."""
    version = draft.latest_version
    if version is None or version.is_published or version.based_on_id is None:
        raise Conflict(_("Chưa có phiên bản chỉnh lý nào đang soạn để hoàn thành."))
    # Check the transition first, so a refused "revise" does not publish anything.
    DRAFT_MACHINE.check(draft, "revise", actor, note)
    publish_version(version, actor=actor)
    apply_draft_action(draft, "revise", actor, note)
    return version


# --- adoption ----------------------------------------------------------------------------
def check_adoption(
    draft: Draft,
    version: Version,
    decision_number: str,
    decision_date: date | None,
    signer_name: str,
    actor: User,
    *,
    confirm_not_latest: bool = False,
) -> None:
    """Every check `adopt_draft` makes, changing nothing: the confirmation page runs it
    before asking, so the user confirms only what would go through.

    A criteria table's problems are all listed in the `Invalid` error's details. A
    version older than the latest published one is adopted only on an explicit
    `confirm_not_latest`: an adopted draft cannot be changed.
    """
    _ensure_not_adopted(draft)
    if version.draft_id != draft.id:
        raise NotFound(_("Phiên bản không thuộc dự thảo này."))
    if not version.is_published:
        raise Conflict(
            _(
                "%(label)s chưa được phát hành; chỉ ban hành được bản đã phát hành.",
                label=version.display_label,
            )
        )
    latest = latest_published(draft)
    if latest is not None and latest.id != version.id and not confirm_not_latest:
        raise Conflict(
            _(
                "%(label)s không phải bản mới nhất đã phát hành (%(label2)s); hãy xác nhận rõ "
                "nếu vẫn muốn ban hành bản cũ hơn.",
                label=version.display_label,
                label2=latest.display_label,
            )
        )
    decision_number, signer_name = decision_number.strip(), signer_name.strip()
    missing = [
        label
        for label, value in (
            (_("số quyết định"), decision_number),
            (_("ngày ký"), decision_date),
            (_("người ký"), signer_name),
        )
        if not value
    ]
    if missing:
        raise Invalid(_("Cần nhập %(fields)s.", fields=", ".join(missing)))
    if len(decision_number) > 120 or len(signer_name) > 200:
        raise Invalid(_("Số quyết định hoặc tên người ký quá dài."))
    # The table's own checks (state, drafter) before the criteria sums, as applying does.
    DRAFT_MACHINE.check(draft, "adopt", actor)
    problems = (
        tree.criteria_problems(tree.load_version_tree(version))
        if draft.kind == DraftKind.CRITERIA
        else []
    )
    if problems:
        lines = [note_text(p) for p in problems]
        message = _("Chưa thể ban hành bảng tiêu chí:") + "\n" + "\n".join(f"– {p}" for p in lines)
        raise Invalid(message, details=lines)


def adopt_draft(
    draft: Draft,
    version: Version,
    decision_number: str,
    decision_date: date,
    signer_name: str,
    actor: User,
    *,
    confirm_not_latest: bool = False,
) -> Draft:
    """Adopt (thông qua, ban hành) a published version; the draft is read-only afterwards.

    A criteria table is refused unless every group's maximum equals the sum of its items'
    and the total is a positive whole number; all problems are reported at once.
    """
    check_adoption(
        draft,
        version,
        decision_number,
        decision_date,
        signer_name,
        actor,
        confirm_not_latest=confirm_not_latest,
    )
    decision_number, signer_name = decision_number.strip(), signer_name.strip()
    apply_draft_action(draft, "adopt", actor, f"Quyết định số {decision_number}")
    draft.adopted_version = version
    draft.decision_number = decision_number
    draft.decision_date = decision_date
    draft.signer_name = signer_name
    draft.adopted_at = now()
    audit.record(
        "draft.adopted",
        draft,
        actor=actor,
        summary=f"{version.label}, Quyết định số {decision_number}",
        details={
            "version_id": version.id,
            "decision_number": decision_number,
            "decision_date": decision_date.isoformat(),
            "signer_name": signer_name,
        },
    )
    notify(
        [d.user for d in draft.drafters if d.user_id != actor.id],
        kind="draft.adopted",
        title=Deferred(N_("Đã ban hành: %(title)s"), title=draft.title),
        body=Deferred(
            N_(
                "%(version)s được ban hành theo Quyết định số %(number)s ngày %(day)s, "
                "người ký: %(signer)s."
            ),
            version=Deferred(VERSION_LABEL, n=version.number),
            number=decision_number,
            day=decision_date.strftime("%d/%m/%Y"),
            signer=signer_name,
        ),
        url=draft_path(draft),
    )
    return draft


# --- editing a version's clause tree -----------------------------------------------------
def check_lock(version: Version, lock_version: int | None) -> None:
    """Refuse an edit made on a stale view of the version (another drafter saved since)."""
    if lock_version is not None and lock_version != version.lock_version:
        raise Conflict(
            _(
                "%(label)s vừa được người khác sửa. Nội dung bạn nhập vẫn được giữ; hãy tải "
                "lại trang để xem bản mới nhất rồi lưu lại.",
                label=version.display_label,
            )
        )


def ensure_editable(version: Version, lock_version: int | None = None) -> None:
    """Refuse (409) any change to a published version or an adopted draft."""
    _ensure_not_adopted(version.draft)
    if version.is_published:
        raise Conflict(
            _(
                "%(label)s đã được phát hành nên không thể sửa. Hãy tạo phiên bản mới (Dự thảo "
                "lần tiếp theo) để chỉnh sửa.",
                label=version.display_label,
            )
        )
    check_lock(version, lock_version)


def _touch(version: Version) -> None:
    # Clause edits do not change the version row; marking it makes the flush bump
    # lock_version (UPDATE ... WHERE lock_version = old), which a concurrent edit then sees.
    flag_modified(version, "note")


def _tree(version: Version) -> tuple[list[tree.TreeNode], dict[int, tree.TreeNode]]:
    roots = tree.load_version_tree(version)
    return roots, {node.id: node for node in tree.iter_tree(roots)}


def _relayout(roots: list[tree.TreeNode]) -> None:
    """Write document order, depth and parent back onto the rows after a change."""
    seq = 0
    stack = [(node, None, 0) for node in reversed(roots)]
    while stack:
        node, parent, depth = stack.pop()
        clause = node.clause
        clause.seq, clause.depth = seq, depth
        clause.parent_id = parent.id if parent is not None else None
        node.parent, node.depth = parent, depth
        seq += 1
        stack.extend((child, node, depth + 1) for child in reversed(node.children))


def _siblings(roots: list[tree.TreeNode], parent: tree.TreeNode | None) -> list[tree.TreeNode]:
    return parent.children if parent is not None else roots


@dataclass
class ClauseFields:
    """What a drafter types for one clause; points are already Decimal."""

    kind: ClauseKind
    number: str = ""
    title: str = ""
    text: str = ""
    max_points: Decimal | None = None
    guidance: str = ""

    def cleaned(self, draft: Draft) -> ClauseFields:
        kind = ClauseKind(self.kind)
        allowed = CRITERIA_KINDS if draft.kind == DraftKind.CRITERIA else REGULATION_KINDS
        if kind not in allowed:
            raise Invalid(
                _(
                    "Loại “%(value)s” không dùng được trong %(kind)s.",
                    value=kind.value,
                    kind=_(draft.kind_label).lower(),
                )
            )
        number = self.number.strip()
        if len(number) > MAX_NUMBER_LENGTH:
            raise Invalid(
                _(
                    "Số hiệu dài quá %(limit)s ký tự.",
                    limit=MAX_NUMBER_LENGTH,
                )
            )
        if kind == ClauseKind.PARAGRAPH:
            number = ""
        title, text = self.title.strip(), self.text.strip()
        if not (title or text or number):
            raise Invalid(_("Cần nhập số hiệu, tiêu đề hoặc nội dung."))
        points = self.max_points
        if points is not None and kind not in CRITERIA_KINDS:
            points = None
        if points is not None and (points < 0 or points >= Decimal("100000000")):
            raise Invalid(_("Điểm chuẩn phải là số không âm và nhỏ hơn 100.000.000."))
        return ClauseFields(kind, number, title, text, points, self.guidance.strip())


def _check_placement(kind: str, parent: tree.TreeNode | None) -> None:
    if parent is not None:
        _check_nesting(kind, parent.kind, parent.label or parent.heading)


def _check_nesting(kind: str, parent_kind: str, where: str) -> None:
    """A regulation provision sits under one of a higher level (điểm under khoản…);
    outline points ("1.1.1" under "1.1") and "-" paragraphs may nest in their own kind."""
    if kind in CRITERIA_KINDS or parent_kind in CRITERIA_KINDS:
        return
    child, parent = ClauseKind(kind), ClauseKind(parent_kind)
    same_level_ok = child in (ClauseKind.POINT, ClauseKind.PARAGRAPH) and child == parent
    if _RANK[child] <= _RANK[parent] and not same_level_ok:
        raise Invalid(
            _(
                "Không thể đặt %(kind_name)s bên trong %(where)s.",
                kind_name=_kind_name(child),
                where=where,
            )
        )


def _kind_name(kind: str) -> str:
    from drafts.models import CLAUSE_KIND_LABELS

    return _(CLAUSE_KIND_LABELS[ClauseKind(kind)]).lower()


def add_clause(
    version: Version,
    fields: ClauseFields,
    *,
    actor: User,
    lock_version: int | None,
    parent: Clause | None = None,
    after: Clause | None = None,
) -> Clause:
    """Add a clause as the last child of `parent` (top level when None), or right after
    its sibling `after`."""
    ensure_editable(version, lock_version)
    fields = fields.cleaned(version.draft)
    roots, nodes = _tree(version)
    for other in (parent, after):
        if other is not None and other.id not in nodes:
            raise NotFound(_("Điều khoản không thuộc phiên bản này."))
    if after is not None:
        after_node = nodes[after.id]
        if parent is not None and after_node.parent is not nodes[parent.id]:
            raise Invalid(_("Vị trí chèn không nằm dưới mục cha đã chọn."))
        parent_node = after_node.parent
    else:
        parent_node = nodes[parent.id] if parent is not None else None
    _check_placement(fields.kind, parent_node)

    clause = Clause(
        version_id=version.id,
        seq=0,
        depth=0,
        kind=fields.kind,
        number=fields.number,
        title=fields.title,
        text=fields.text,
        max_points=fields.max_points,
        guidance=fields.guidance,
        lineage=new_lineage(),
    )
    db.session.add(clause)
    db.session.flush()
    node = tree.TreeNode(clause)
    siblings = _siblings(roots, parent_node)
    position = siblings.index(nodes[after.id]) + 1 if after is not None else len(siblings)
    siblings.insert(position, node)
    _relayout(roots)
    _touch(version)
    audit.record(
        "clause.add",
        clause,
        actor=actor,
        summary=f"{version.label}: thêm {tree.heading(fields.kind, fields.number)}".strip(),
        details={"version_id": version.id, "lineage": clause.lineage},
    )
    return clause


def edit_clause(
    clause: Clause, fields: ClauseFields, *, actor: User, lock_version: int | None
) -> Clause:
    version = clause.version
    ensure_editable(version, lock_version)
    fields = fields.cleaned(version.draft)
    if fields.kind != clause.kind:
        _roots, nodes = _tree(version)
        node = nodes[clause.id]
        _check_placement(fields.kind, node.parent)
        for child in node.children:
            _check_nesting(child.kind, fields.kind, node.label)
    before = {"number": clause.number, "title": clause.title, "text": clause.text}
    clause.kind = fields.kind
    clause.number = fields.number
    clause.title = fields.title
    clause.text = fields.text
    clause.max_points = fields.max_points
    clause.guidance = fields.guidance
    _touch(version)
    audit.record(
        "clause.edit",
        clause,
        actor=actor,
        summary=f"{version.label}: sửa {clause.heading}".strip(),
        details={"before": before, "lineage": clause.lineage},
    )
    return clause


def move_clause(
    clause: Clause,
    *,
    actor: User,
    lock_version: int | None,
    parent: Clause | None,
    after: Clause | None = None,
) -> Clause:
    """Move a clause (with its children) under `parent` (top level when None), right
    after its new sibling `after`, or last when `after` is None. Lineage never changes."""
    version = clause.version
    ensure_editable(version, lock_version)
    roots, nodes = _tree(version)
    node = nodes[clause.id]
    target = nodes.get(parent.id) if parent is not None else None
    if parent is not None and target is None:
        raise NotFound(_("Mục cha không thuộc phiên bản này."))
    ancestor = target
    while ancestor is not None:
        if ancestor is node:
            raise Invalid(_("Không thể chuyển một điều khoản vào bên trong chính nó."))
        ancestor = ancestor.parent
    _check_placement(node.kind, target)
    after_node = nodes.get(after.id) if after is not None else None
    if after is not None and (after_node is None or after_node.parent is not target):
        raise Invalid(_("Vị trí chèn không nằm dưới mục cha đã chọn."))
    if after_node is node:
        raise Invalid(_("Không thể đặt một điều khoản sau chính nó."))
    _siblings(roots, node.parent).remove(node)
    siblings = _siblings(roots, target)
    position = siblings.index(after_node) + 1 if after_node is not None else len(siblings)
    siblings.insert(position, node)
    _relayout(roots)
    _touch(version)
    audit.record(
        "clause.move",
        clause,
        actor=actor,
        summary=f"{version.label}: chuyển {node.label}",
        details={"parent_id": target.id if target else None, "lineage": clause.lineage},
    )
    return clause


def shift_clause(
    clause: Clause, direction: Literal["up", "down"], *, actor: User, lock_version: int | None
) -> Clause:
    """Move a clause one place up or down among its siblings."""
    version = clause.version
    ensure_editable(version, lock_version)
    roots, nodes = _tree(version)
    node = nodes[clause.id]
    siblings = _siblings(roots, node.parent)
    index = siblings.index(node)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        raise Invalid(
            _("Điều khoản đã ở vị trí đầu tiên.")
            if direction == "up"
            else _("Điều khoản đã ở vị trí cuối cùng.")
        )
    siblings[index], siblings[other] = siblings[other], siblings[index]
    _relayout(roots)
    _touch(version)
    audit.record(
        "clause.move",
        clause,
        actor=actor,
        summary=f"{version.label}: chuyển {node.label} {'lên' if direction == 'up' else 'xuống'}",
        details={"direction": direction, "lineage": clause.lineage},
    )
    return clause


def subtree_size(clause: Clause) -> int:
    """How many clauses deleting this one removes (itself and everything under it)."""
    _roots, nodes = _tree(clause.version)
    return sum(1 for _node in tree.iter_tree([nodes[clause.id]]))


def delete_clause(clause: Clause, *, actor: User, lock_version: int | None) -> int:
    """Delete a clause and everything under it; returns how many rows went."""
    version = clause.version
    ensure_editable(version, lock_version)
    roots, nodes = _tree(version)
    node = nodes[clause.id]
    doomed = list(tree.iter_tree([node]))
    audit.record(
        "clause.delete",
        clause,
        actor=actor,
        summary=f"{version.label}: xóa {node.label}",
        details={"lineages": [n.lineage for n in doomed]},
    )
    _siblings(roots, node.parent).remove(node)
    # Children first, so the self-referencing foreign key never points at a deleted row.
    for gone in reversed(doomed):
        db.session.delete(gone.clause)
    _relayout(roots)
    _touch(version)
    return len(doomed)


def renumber_preview(version: Version) -> list[tree.Renumbering]:
    return tree.renumber_plan(tree.load_version_tree(version))


def renumber_version(
    version: Version, *, actor: User, lock_version: int | None
) -> list[tree.Renumbering]:
    """Apply "Đánh số lại": numbers change, lineage keys and order do not."""
    ensure_editable(version, lock_version)
    roots, nodes = _tree(version)
    plan = tree.renumber_plan(roots)
    for change in plan:
        nodes[change.clause_id].clause.number = change.new_number
    if plan:
        _touch(version)
    audit.record(
        "version.renumber",
        version,
        actor=actor,
        summary=f"{version.label}: đánh số lại {len(plan)} điều khoản",
        details={"changes": [[c.old_label, c.new_label] for c in plan]},
    )
    return plan


# --- importing a file --------------------------------------------------------------------
@dataclass
class ImportPreview:
    """A parsed upload, before anything is saved."""

    kind: DraftKind
    nodes: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    total_max_points: Decimal | None = None
    # A regulation's name, its preamble, and the paragraphs kept out of the tree with the
    # reason (a Vietnamese label, translated where shown): shown before the user confirms.
    title: str = ""
    preamble: list[str] = field(default_factory=list)
    left_out: list[dict[str, str]] = field(default_factory=list)

    @property
    def roots(self) -> list[tree.TreeNode]:
        return tree.build_tree(tree.flat_from_nodes(self.nodes))

    @property
    def count(self) -> int:
        return len(tree.flat_from_nodes(self.nodes))

    def as_json(self) -> dict[str, Any]:
        """The preview as JSON (points as strings, exact), kept by a background import."""
        return {
            "kind": self.kind.value,
            "nodes": [_node_json(node) for node in self.nodes],
            "warnings": [note_json(w) for w in self.warnings],
            "total_max_points": _decimal_text(self.total_max_points),
            "title": self.title,
            "preamble": self.preamble,
            "left_out": self.left_out,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportPreview:
        total = data.get("total_max_points")
        return cls(
            DraftKind(data["kind"]),
            [_node_from_json(node) for node in data["nodes"]],
            [note_from_json(w) for w in data.get("warnings", [])],
            Decimal(total) if total is not None else None,
            title=data.get("title", ""),
            preamble=list(data.get("preamble", [])),
            left_out=list(data.get("left_out", [])),
        )


def _decimal_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _node_json(node: dict[str, Any]) -> dict[str, Any]:
    out = dict(node)
    if "max_points" in out:
        out["max_points"] = _decimal_text(out["max_points"])
    out["children"] = [_node_json(child) for child in node.get("children", [])]
    return out


def _node_from_json(node: dict[str, Any]) -> dict[str, Any]:
    out = dict(node)
    if out.get("max_points") is not None:
        out["max_points"] = Decimal(out["max_points"])
    out["children"] = [_node_from_json(child) for child in node.get("children", [])]
    return out


def kept_preview(user: User, draft: Draft, token: str) -> ImportPreview | None:
    """The parse a background import kept for this upload, if one did."""
    kept = kept_import(user.id, draft.id, token)
    return ImportPreview.from_json(kept) if kept is not None else None


def import_runs_in_background(data: bytes, filename: str, *, max_bytes: int) -> bool:
    """Whether parsing this upload may take seconds: a file LibreOffice or pdfminer must
    read first, or a large one. Small .docx/.xlsx files are read while the user waits."""
    return identify(data, filename) != "docx" or len(data) > max_bytes


# The parsers the upload sandbox runs, by name (see drafts.sandbox).
PARSERS = {
    DraftKind.REGULATION: "drafts.parsing:parse_regulation",
    DraftKind.CRITERIA: "drafts.criteria_parsing:parse_criteria",
}


def parse_upload(kind: DraftKind, data: bytes, filename: str = "") -> Any:
    """Run the parser for `kind` in the upload sandbox, within the configured limits.

    TooLarge (413) when reading needs more memory, rows or columns than allowed; Invalid
    (422) when it takes too long or the file cannot be read. Nothing is stored either way.
    """
    config = current_app.config
    options = {}
    if kind == DraftKind.CRITERIA:
        options = {
            "max_rows": config["CRITERIA_MAX_ROWS"],
            "max_columns": config["CRITERIA_MAX_COLUMNS"],
        }
    limits = sandbox.Limits(config["PARSE_MEMORY_MB"], config["PARSE_TIMEOUT_SECONDS"])
    try:
        return sandbox.run_parser(PARSERS[kind], data, filename, limits=limits, options=options)
    except sandbox.LimitExceeded as exc:
        if exc.kind == "memory":
            raise TooLarge(refusal(exc)) from exc
        raise Invalid(refusal(exc)) from exc
    except SheetTooLarge as exc:
        raise TooLarge(refusal(exc)) from exc
    except ParseError as exc:
        raise Invalid(refusal(exc)) from exc


def read_upload(kind: DraftKind, data: bytes, filename: str = "") -> ImportPreview:
    """Parse an uploaded file for a draft of `kind`; Invalid with the parser's message
    when it cannot be read (wrong type, corrupt, encrypted, empty, zip bomb), TooLarge
    past a limit (see `parse_upload`)."""
    if kind == DraftKind.REGULATION:
        parsed = parse_upload(kind, data, filename).as_dict()
        return ImportPreview(
            kind,
            parsed["nodes"],
            parsed["warnings"],
            title=parsed["title"],
            preamble=parsed["preamble"],
            left_out=parsed["left_out"],
        )
    criteria = parse_upload(kind, data, filename)
    nodes = [_criteria_dict(node) for node in criteria.criteria]
    preview = ImportPreview(kind, nodes, list(criteria.warnings), criteria.total_max_points)
    # What would block adoption is worth knowing before the version even exists.
    preview.warnings = list(
        dict.fromkeys([*preview.warnings, *tree.criteria_problems(preview.roots)])
    )
    return preview


def _criteria_dict(node: Any) -> dict[str, Any]:
    # Keep Decimal points (the parser's as_dict() turns them into floats for JSON).
    return {
        "kind": node.kind,
        "number": node.code,
        "title": node.title,
        "text": "",
        "max_points": node.max_points,
        "guidance": node.guidance,
        "children": [_criteria_dict(child) for child in node.children],
    }


def import_version(
    draft: Draft,
    *,
    actor: User,
    data: bytes,
    filename: str,
    preview: ImportPreview | None = None,
) -> Version:
    """Create the next version from an uploaded file.

    Clauses whose citation and kind match the latest published version inherit its
    lineage keys, so comments and the diff follow them into the new text. `preview` is
    the file's parse when a background import already made it (not parsed again).
    """
    _ensure_not_adopted(draft)
    if preview is None or preview.kind != draft.kind:
        preview = read_upload(draft.kind, data, filename)
    if not preview.nodes:
        raise Invalid(_("Tệp không có điều khoản nào để nhập."))
    base = latest_published(draft)
    nodes = preview.nodes
    if base is not None:
        nodes = tree.inherit_lineage(nodes, tree.load_version_tree(base))
    version = create_version(
        draft, actor=actor, nodes=nodes, source_filename=display_filename(filename), based_on=base
    )
    version.source_title = preview.title
    version.source_preamble = list(preview.preamble)
    version.import_warnings = [note_json(w) for w in preview.warnings]
    version.left_out = [dict(item) for item in preview.left_out]
    audit.record(
        "version.import",
        version,
        actor=actor,
        summary=f"{draft.title}: {version.label} từ tệp {display_filename(filename)}",
        details={
            "clauses": preview.count,
            "warnings": preview.warnings,
            "left_out": len(preview.left_out),
        },
    )
    return version


MAX_FILENAME = 255
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def display_filename(name: str) -> str:
    """The uploaded name as users wrote it (Vietnamese kept), minus path and unsafe
    characters; never used to build a path."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_NAME.sub("", name).strip(" .")
    if len(name) > MAX_FILENAME:
        # Shorten the stem, not the extension: callers tell file types by it.
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_FILENAME - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME]
    return name or "tep-tai-len"


# --- uploads waiting for confirmation ----------------------------------------------------
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
PENDING_TTL = timedelta(hours=2)


@dataclass
class PendingUpload:
    token: str
    data: bytes
    filename: str
    user_id: int
    draft_id: int


def _pending_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stash_upload(data: bytes, *, filename: str, user: User, draft: Draft) -> str:
    """Keep an upload between the preview and the confirmation, bound to the user and the
    draft; returns a random token. Old uploads are removed on the way."""
    expire_uploads()
    token = secrets.token_urlsafe(32)
    folder = _pending_dir()
    (folder / f"{token}.bin").write_bytes(data)
    meta = {
        "user_id": user.id,
        "draft_id": draft.id,
        "filename": display_filename(filename),
        "created_at": now().isoformat(),
    }
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    return token


def take_upload(token: str, *, user: User, draft: Draft) -> PendingUpload:
    """The upload behind `token`, only for the user and draft it was made for."""
    gone = Conflict(_("Tệp xem trước đã hết hạn hoặc không còn; hãy tải tệp lên lại."))
    if not _TOKEN.match(token or ""):
        raise gone
    folder = _pending_dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text("utf-8"))
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        raise gone from None
    if meta.get("user_id") != user.id or meta.get("draft_id") != draft.id:
        raise Forbidden(_("Tệp xem trước này không phải của bạn hoặc không thuộc dự thảo này."))
    if now() - datetime.fromisoformat(meta["created_at"]) > PENDING_TTL:
        drop_upload(token)
        raise gone
    return PendingUpload(token, data, meta["filename"], user.id, draft.id)


def drop_upload(token: str) -> None:
    if not _TOKEN.match(token or ""):
        return
    for suffix in (".bin", ".json"):
        (_pending_dir() / f"{token}{suffix}").unlink(missing_ok=True)


def expire_uploads() -> int:
    """Remove uploads older than PENDING_TTL (abandoned previews); returns how many."""
    removed = 0
    limit = now() - PENDING_TTL
    for meta_file in _pending_dir().glob("*.json"):
        try:
            created = datetime.fromisoformat(json.loads(meta_file.read_text("utf-8"))["created_at"])
        except (OSError, ValueError, KeyError):
            created = limit - timedelta(seconds=1)
        if created < limit:
            drop_upload(meta_file.stem)
            removed += 1
    return removed
