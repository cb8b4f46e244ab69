"""Verb-named operations on drafts and versions. They write the audit row; the
caller commits once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from accounts import audit
from accounts.clock import now
from accounts.errors import Conflict, Invalid
from accounts.models import Unit, User
from app import db
from drafts.models import (
    Clause,
    ClauseKind,
    Draft,
    DraftDrafter,
    DraftKind,
    Version,
    VersionStatus,
    new_lineage,
)


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
        raise Invalid("Tên dự thảo là bắt buộc.")
    draft = Draft(title=title, kind=kind, drafting_unit=drafting_unit, created_by=actor)
    members = {actor.id: actor, **{u.id: u for u in drafters}}
    draft.drafters = [DraftDrafter(user=u) for u in members.values()]
    db.session.add(draft)
    audit.record("draft.create", draft, actor=actor, summary=title)
    return draft


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


def create_version(
    draft: Draft,
    *,
    actor: User,
    nodes: Sequence[Mapping[str, Any]] = (),
    source_filename: str | None = None,
    based_on: Version | None = None,
) -> Version:
    if draft.latest_version is not None and not draft.latest_version.is_published:
        raise Conflict(
            f"{draft.latest_version.label} chưa được phát hành; hãy hoàn thiện phiên bản đó trước."
        )
    number = (draft.latest_version.number + 1) if draft.latest_version else 1
    version = Version(
        draft=draft, number=number, created_by=actor, source_filename=source_filename,
        based_on=based_on,
    )
    db.session.add(version)
    add_clauses(version, nodes)
    audit.record("version.create", version, actor=actor, summary=f"{draft.title}: {version.label}")
    return version


def publish_version(version: Version, *, actor: User) -> Version:
    """Freeze a version: from now on its text never changes."""
    if version.is_published:
        raise Conflict(f"{version.label} đã được phát hành.")
    if not version.clauses:
        raise Invalid("Không thể phát hành một phiên bản chưa có nội dung.")
    version.status = VersionStatus.PUBLISHED
    version.published_at = now()
    audit.record("version.publish", version, actor=actor, summary=version.label)
    return version
