"""The official documents of a consultation, built from the database.

Each function reads what it needs through the read models of `comments.consolidation`
(a fixed number of queries whatever the size), fills the pure dataclasses of
`comments.consolidation.reports` and returns a `Download`, which `send_download` serves
as an attachment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from unidecode import unidecode

from accounts.clock import local_today, to_local
from accounts.downloads import DOCX_MIMETYPE, XLSX_MIMETYPE, Download
from accounts.downloads import send_download as send_download  # the views serve through it
from accounts.downloads import slug as _slug
from accounts.errors import Conflict
from accounts.letterhead import (
    agency_in_sentence,
    agency_name,
    agency_place,
    issuing_signer,
    unit_signer,
)
from accounts.models import Unit
from comments.consolidation.queries import (
    CommentGroup,
    Consolidation,
    VersionDiff,
    load_consolidation,
    round_of_version,
    titled_label,
    version_diff,
)
from comments.consolidation.reports import (
    CommentLetter,
    CommentLetterItem,
    ComparisonRow,
    ComparisonTable,
    ConsolidationReport,
    ReportCounts,
    ReportRow,
    build_comment_letter_docx,
    build_comparison_docx,
    build_consolidation_docx,
    build_consolidation_xlsx,
)
from comments.consultation.models import Comment, Consultation, Decision, UnitResponse
from comments.consultation.queries import unit_written_comments
from drafts.diffing import DiffClause
from drafts.models import Clause, Version
from drafts.tree import citation_labels, heading
from extensions import db

# --------------------------------------------------------------------------- consolidation


def consolidation_report(data: Consolidation, symbol: str | None = None) -> ConsolidationReport:
    consultation = data.consultation
    draft = consultation.draft
    counts = data.counts
    return ConsolidationReport(
        agency_name=agency_name(),
        drafting_unit=draft.drafting_unit.name.upper(),
        draft_title=draft.title,
        version_label=consultation.version.label,
        place=agency_place(),
        date=local_today(),
        counts=ReportCounts(
            units_invited=counts.units_invited,
            units_answered=counts.units_answered,
            units_agreed_without_comments=counts.units_agreed,
            comments_total=counts.comments_total,
            accepted=counts.decisions[Decision.ACCEPTED],
            partly_accepted=counts.decisions[Decision.PARTLY],
            not_accepted=counts.decisions[Decision.REJECTED],
            explained=counts.decisions[Decision.EXPLAINED],
            unanswered=counts.unanswered,
        ),
        rows=report_rows(data),
        signer=issuing_signer(draft.drafting_unit),
        symbol=symbol,
    )


def report_rows(data: Consolidation, *, exact_labels: bool = False) -> list[ReportRow]:
    """One row per answer within each article group; comments sharing an answer share a row.

    In the .docx the article's cell is merged over its rows, so a comment on a khoản or
    điểm starts with its exact citation; with `exact_labels` (the .xlsx, one row per line)
    the citation is the row's label instead.
    """
    rows: list[ReportRow] = []
    for group in data.groups:
        answers: dict[object, list[Comment]] = {}
        for comment in group.comments:
            answers.setdefault(comment.disposition_id or ("comment", comment.id), []).append(
                comment
            )
        for comments in answers.values():
            citations = _unique(data.citations[c.id] for c in comments)
            if exact_labels:
                label = "; ".join(citations)
                texts = _unique(c.text for c in comments)
            else:
                label = group.label
                texts = _unique(_cited(data.citations[c.id], group, c.text) for c in comments)
            disposition = comments[0].disposition
            rows.append(
                ReportRow(
                    group_key=group.key,
                    group_label=label,
                    units=_unique(data.unit_label(c) for c in comments),
                    comment_text="\n".join(texts),
                    decision=disposition.decision.value if disposition else None,
                    response=_response(data, comments),
                    comment_ids=[c.id for c in comments],
                )
            )
    return rows


def _cited(citation: str, group: CommentGroup, text: str) -> str:
    if citation == group.citation:
        return text
    return f"{citation}: {text}"


def _response(data: Consolidation, comments: list[Comment]) -> str:
    disposition = comments[0].disposition
    lines = [disposition.explanation] if disposition and disposition.explanation else []
    changes = _unique(change.text for c in comments for change in data.changes.get(c.id, []))
    if changes:
        lines.append(f"Đã chỉnh lý tại {'; '.join(changes)}.")
    return "\n".join(lines)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def consolidation_docx(consultation: Consultation, symbol: str | None = None) -> Download:
    """`symbol` defaults to the one remembered for the round."""
    report = consolidation_report(
        load_consolidation(consultation), symbol or consultation.report_symbol
    )
    return Download(
        build_consolidation_docx(report), _report_filename(consultation, "docx"), DOCX_MIMETYPE
    )


def consolidation_xlsx(consultation: Consultation) -> Download:
    data = load_consolidation(consultation)
    report = consolidation_report(data)
    report.rows = report_rows(data, exact_labels=True)
    return Download(
        build_consolidation_xlsx(report), _report_filename(consultation, "xlsx"), XLSX_MIMETYPE
    )


def _report_filename(consultation: Consultation, extension: str) -> str:
    title = _slug(consultation.draft.title)
    return f"tong-hop-y-kien-{title}-lan-{consultation.round_number}.{extension}"


# --------------------------------------------------------------------------- the unit's letter


def _unit_code(unit: Unit) -> str:
    """The letter's ký hiệu before the unit's clerk numbers it: "/VKSKV1" from the short name."""
    code = re.sub(r"[^A-Z0-9]+", "", unidecode(unit.short_name).upper())[:12]
    return f"/{code or 'CV'}"


def comment_letter(response: UnitResponse) -> CommentLetter:
    """The unit's official letter, from its SUBMITTED position (written comments only)."""
    if not response.is_submitted:
        raise Conflict(_("Đơn vị chưa gửi ý kiến chính thức nên chưa có công văn góp ý."))
    consultation = response.consultation
    draft = consultation.draft
    comments = [] if response.agrees_without_comments else unit_written_comments(response)
    clauses = db.session.scalars(
        select(Clause).where(Clause.version_id == consultation.version_id).order_by(Clause.seq)
    ).all()
    labels = citation_labels(clauses)
    position = {c.id: i for i, c in enumerate(clauses)}
    comments.sort(key=lambda c: (position.get(c.clause_id, -1) if c.clause_id else -1, c.id))
    signer = response.submitted_by
    submitted = to_local(response.submitted_at).date() if response.submitted_at else local_today()
    return CommentLetter(
        agency_name=agency_name(),
        unit_name=response.unit.name.upper(),
        symbol=_unit_code(response.unit),
        draft_title=draft.title,
        version_label=consultation.version.label,
        recipient=f"{draft.drafting_unit.name} {agency_in_sentence()}",
        place=agency_place(),
        date=submitted,
        signer=unit_signer(response.unit, signer),
        items=[
            CommentLetterItem(labels.get(c.clause_id) if c.clause_id else None, c.text)
            for c in comments
        ],
    )


def comment_letter_docx(response: UnitResponse) -> Download:
    letter = comment_letter(response)
    consultation = response.consultation
    filename = (
        f"cong-van-gop-y-{_slug(response.unit.short_name, 20)}-"
        f"{_slug(consultation.draft.title, 40)}-lan-{consultation.round_number}.docx"
    )
    return Download(build_comment_letter_docx(letter), filename, DOCX_MIMETYPE)


# --------------------------------------------------------------------------- comparison table


def comparison_table(diff: VersionDiff, symbol: str | None = None) -> ComparisonTable:
    draft = diff.draft
    return ComparisonTable(
        agency_name=agency_name(),
        drafting_unit=draft.drafting_unit.name.upper(),
        draft_title=draft.title,
        old_version_label=diff.old.label,
        new_version_label=diff.new.label,
        rows=comparison_rows(diff),
        place=agency_place(),
        date=local_today(),
        signer=issuing_signer(draft.drafting_unit),
        symbol=symbol,
    )


@dataclass(slots=True)
class _Article:
    """One row of the comparison table being assembled: an article with its khoản and điểm."""

    old: DiffClause | None = None
    new: DiffClause | None = None
    old_lines: list[tuple[int, str]] = field(default_factory=list)  # (old position, line)
    new_lines: list[str] = field(default_factory=list)
    changes: set[str] = field(default_factory=set)
    comments: dict[int, str] = field(default_factory=dict)  # comment id → "Unit: text"


def comparison_rows(diff: VersionDiff) -> list[ComparisonRow]:
    """Article by article (a khoản or điểm counts within its Điều); only changed articles.

    Provisions outside any article (a Chương, a criterion) are rows of their own.
    """
    old_by = {r.entry.old.lineage: r.entry.old for r in diff.rows if r.entry.old}
    new_by = {r.entry.new.lineage: r.entry.new for r in diff.rows if r.entry.new}
    articles: dict[str, _Article] = {}
    for row in diff.rows:
        entry = row.entry
        if entry.new is not None:
            owner_key = _article_of(entry.new, new_by)
            owner = articles.setdefault(owner_key, _Article())
            own = owner_key == entry.lineage
            if own:
                owner.new = entry.new
            owner.new_lines.append(_line(entry.new, own))
            for link in row.links:
                owner.comments[link.comment_id] = f"{link.comment.unit.name}: {link.comment.text}"
            _note_change(owner, entry.changes, own)
        if entry.old is not None:
            owner_key = _article_of(entry.old, old_by)
            owner = articles.setdefault(owner_key, _Article())
            own = owner_key == entry.lineage
            if own:
                owner.old = entry.old
            owner.old_lines.append((entry.old.position, _line(entry.old, own)))
            _note_change(owner, entry.changes, own)
    return [_comparison_row(a) for a in articles.values() if a.changes]


def _note_change(owner: _Article, changes: set[str], own: bool) -> None:
    # A khoản added, removed, moved or edited is a change to the article that holds it.
    if own:
        owner.changes |= set(changes)
    elif changes:
        owner.changes.add("changed")


def _article_of(clause: DiffClause, by: dict[str, DiffClause]) -> str:
    current: DiffClause | None = clause
    while current is not None:
        if current.kind == "article":
            return current.lineage
        current = by.get(current.parent_lineage) if current.parent_lineage else None
    return clause.lineage


def _line(clause: DiffClause, own: bool) -> str:
    """The article's own text, or a khoản/điểm as written: "1. …", "a) …"."""
    if own:
        return clause.text
    parts = (heading(clause.kind, clause.number), clause.title, clause.text)
    return " ".join(part for part in parts if part)


def _provision(clause: DiffClause) -> str:
    return titled_label(clause.label[:1].upper() + clause.label[1:], clause.title)


def _comparison_row(a: _Article) -> ComparisonRow:
    current = a.new or a.old
    assert current is not None
    label = _provision(current)
    old_label = _provision(a.old) if a.old is not None else None
    return ComparisonRow(
        label=label,
        old_label=old_label if old_label != label else None,
        old_text="\n".join(line for _pos, line in sorted(a.old_lines) if line),
        new_text="\n".join(line for line in a.new_lines if line),
        comments=list(a.comments.values()),
        changes=frozenset(a.changes),
    )


def comparison_docx(old: Version, new: Version, symbol: str | None = None) -> Download:
    """`symbol` defaults to the one remembered for the round on `old`."""
    if symbol is None:
        round_on_old = round_of_version(old)
        symbol = round_on_old.comparison_symbol if round_on_old else None
    table = comparison_table(version_diff(old, new), symbol)
    filename = (
        f"bang-so-sanh-{_slug(new.draft.title, 50)}-lan-{old.number}-va-lan-{new.number}.docx"
    )
    return Download(build_comparison_docx(table), filename, DOCX_MIMETYPE)
