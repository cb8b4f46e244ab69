"""Floors: bare Flask endpoints that show what a page shows, as cheaply as possible.

Each floor reads the same visible content as its page straight from the same database
with the fewest raw SQL statements (`text()`), and renders every clause, comment and
name in one flat Jinja loop: no layout, no permissions, no ORM, no session. "The same
content" includes the page's headings, state labels, counts, ranks and classes, not only
its rows. A page's time divided by its floor's time is the price of the framework around
the data.

Fields the page must also show verbatim are wrapped in ``<span class=k>``; the bench
checks that a sample of them appears in the page, so a floor cannot be an empty page.

`bare_insert` is the floor of comment submission: one raw INSERT per request.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from markupsafe import Markup
from sqlalchemy import Engine, create_engine, text

from drafts.diffing import diff_versions, render_word_diff_html
from drafts.tree import citation_labels, heading, to_diff_clauses

bp = Blueprint("floor", __name__)

# One flat loop: every row is (css class, fields); a field is (text, is_key).
FLAT = """<!doctype html><title>floor</title>
{%- for cls, fields in rows %}
<p class="{{ cls }}">{% for value, key in fields %}{% if key %}<span class=k>{{ value }}</span>
{%- else %}<span>{{ value }}</span>{% endif %} {% endfor %}</p>
{%- endfor %}"""

Row = tuple[str, Sequence[tuple[Any, bool]]]


def engine() -> Engine:
    return current_app.extensions["floor_engine"]


def render(rows: Iterable[Row]) -> str:
    return current_app.extensions["floor_template"].render(rows=rows)


def _rows(sql: str, **params: Any) -> list[Any]:
    with engine().connect() as conn:
        return list(conn.execute(text(sql), params))


def _utc(moment: Any) -> datetime:
    """A raw column's time as an aware UTC datetime (SQLite gives text, or naive)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _local(moment: Any) -> str:
    """Times as the pages show them (dd/mm/yyyy hh:mm, Asia/Ho_Chi_Minh)."""
    from accounts.clock import format_datetime

    return "—" if moment is None else format_datetime(_utc(moment))


# --- the drafter's view: every clause with its comments inline ----------------------------
@dataclass
class _Clause:
    """A raw clause row shaped for drafts.tree (pure helpers; no ORM)."""

    id: int
    parent_id: int | None
    seq: int
    kind: str
    number: str
    title: str
    text: str
    max_points: Decimal | None
    guidance: str
    lineage: str


CLAUSES_OF_VERSION = """
SELECT id, parent_id, seq, kind, number, title, text, max_points, guidance, lineage
FROM clauses WHERE version_id = :v ORDER BY seq"""


def _clauses(version_id: int) -> list[_Clause]:
    return [_Clause(*row) for row in _rows(CLAUSES_OF_VERSION, v=version_id)]


# Submitted positions' comments and conference opinions (what a drafter may see).
VISIBLE_COMMENTS = """
SELECT m.id, m.clause_id, m.text, m.updated_at, u.name AS unit, a.full_name AS author
FROM comments m
JOIN unit_responses r ON r.id = m.response_id
JOIN units u ON u.id = m.unit_id
JOIN users a ON a.id = m.author_id
WHERE m.consultation_id = :c AND (r.status = 'submitted' OR m.source = 'conference')
ORDER BY m.created_at, m.id"""


@bp.route("/draft/<int:consultation_id>")
def draft(consultation_id: int) -> str:
    k, header = _round_header(consultation_id)
    clauses = _clauses(k.version_id)
    by_clause: dict[int | None, list[Any]] = defaultdict(list)
    for comment in _rows(VISIBLE_COMMENTS, c=consultation_id):
        by_clause[comment.clause_id].append(comment)

    def comment_rows(items: Sequence[Any]) -> list[Row]:
        return [
            (
                "comment",
                ((c.unit, True), (c.author, True), (_local(c.updated_at), False), (c.text, True)),
            )
            for c in items
        ]

    rows: list[Row] = [
        *header,
        ("clause", (("Ý kiến chung", False),)),
        *comment_rows(by_clause[None]),
    ]
    for clause in clauses:
        rows.append(
            (
                "clause",
                (
                    (heading(clause.kind, clause.number), False),
                    (clause.title, False),
                    (clause.text, True),
                ),
            )
        )
        rows.extend(comment_rows(by_clause[clause.id]))
    return render(rows)


# --- a round's header and its invited units (tracker; header also on the other pages) -----
# The round as its header shows it, one row per attachment (the drafter's tabs and forms
# are links and fields, not text).
ROUND_HEADER = """
SELECT k.version_id, d.title, d.state AS draft_state, k.round_number,
       v.number AS version_number, k.letter_number, k.letter_text, k.opens_at, k.closes_at,
       k.closed_at, k.visibility, a.filename, a.size
FROM consultations k
JOIN drafts d ON d.id = k.draft_id
JOIN versions v ON v.id = k.version_id
LEFT JOIN consultation_attachments a ON a.consultation_id = k.id
WHERE k.id = :c
ORDER BY a.id"""
INVITED_UNITS = """
SELECT u.name AS unit, u.short_name, r.status, r.agrees_without_comments, r.submitted_at,
       COALESCE(r.deadline_override, k.closes_at) AS deadline,
       r.deadline_override IS NOT NULL AS extended, s.full_name AS signer,
       (SELECT COUNT(*) FROM comments m
        WHERE m.response_id = r.id AND m.source = 'written') AS written,
       (SELECT COUNT(*) FROM comments m
        WHERE m.response_id = r.id AND m.source = 'conference') AS conference,
       (SELECT COUNT(*) FROM comments m
        WHERE m.response_id = r.id AND m.source = 'letter') AS letter
FROM unit_responses r
JOIN consultations k ON k.id = r.consultation_id
JOIN units u ON u.id = r.unit_id
LEFT JOIN users s ON s.id = r.submitted_by_id
WHERE r.consultation_id = :c
ORDER BY u.kind <> 'regional', u.name"""


def _round_header(consultation_id: int) -> tuple[Any, list[Row]]:
    """The round's first row (its version id, draft, dates) and the header it shows."""
    from comments.consultation.models import VISIBILITY_LABELS, Visibility

    header = _rows(ROUND_HEADER, c=consultation_id)
    k = header[0]
    rows: list[Row] = [
        (
            "round",
            (
                (f"Lần lấy ý kiến thứ {k.round_number} · Dự thảo lần {k.version_number}", False),
                (k.title, True),
                (f"Số {k.letter_number}", False),
                (f"{_local(k.opens_at)} – {_local(k.closes_at)}", False),
                (VISIBILITY_LABELS[Visibility(k.visibility)], False),
                (f"Đã kết thúc lúc {_local(k.closed_at)}" if k.closed_at else "", False),
                (k.letter_text or "", False),
            ),
        ),
        *(
            ("attachment", ((a.filename, True), (f"{-(-a.size // 1024)} KB", False)))
            for a in header
            if a.filename
        ),
    ]
    return k, rows


@dataclass
class _Invited:
    units: list[Any]  # (row, state, submitted, due) per invited unit
    per_state: dict[Any, int]
    answered: int = 0
    agreed: int = 0
    comments: int = 0


def _invited_units(consultation_id: int, *, is_open: bool) -> _Invited:
    """Every invited unit with its state as the tracker shows it, and the counts."""
    from accounts.clock import days_left
    from comments.consultation.models import ResponseStatus, TrackerStatus, tracker_status

    moment = datetime.now(UTC)
    invited = _Invited(units=[], per_state=dict.fromkeys(TrackerStatus, 0))
    for r in _rows(INVITED_UNITS, c=consultation_id):
        deadline = _utc(r.deadline)
        submitted = r.status == ResponseStatus.SUBMITTED
        state = tracker_status(
            ResponseStatus(r.status),
            agrees=bool(r.agrees_without_comments),
            submitted_at=_utc(r.submitted_at) if r.submitted_at else None,
            deadline=deadline,
            moment=moment,
        )
        invited.per_state[state] += 1
        invited.answered += submitted
        invited.agreed += submitted and bool(r.agrees_without_comments)
        invited.comments += (r.written if submitted else 0) + r.conference + r.letter
        due = ""
        if is_open and not submitted:
            days = days_left(deadline, moment)
            due = f"còn {days} ngày" if moment <= deadline else f"quá hạn {-days} ngày"
        invited.units.append((r, state, submitted, due))
    return invited


@bp.route("/tracker/<int:consultation_id>")
def tracker(consultation_id: int) -> str:
    from comments.consultation.models import TRACKER_LABELS

    k, rows = _round_header(consultation_id)
    invited = _invited_units(consultation_id, is_open=k.closed_at is None)
    rows.extend(
        ("state", ((n, False), (TRACKER_LABELS[s], False))) for s, n in invited.per_state.items()
    )
    rows.append(("totals", ((invited.agreed, False), (invited.comments, False))))
    for r, state, submitted, due in invited.units:
        rows.append(
            (
                "unit",
                (
                    (r.unit, True),
                    (TRACKER_LABELS[state], True),
                    (_local(r.deadline), False),
                    ("(đã gia hạn)" if r.extended else "", False),
                    (due, False),
                    (_local(r.submitted_at), False),
                    (r.signer or "", bool(r.signer)),
                    (r.written if submitted else "—", False),
                    (r.conference, False),
                    (r.letter, False),
                    (r.short_name, True),
                ),
            )
        )
    return render(rows)


# --- consolidation: every comment with its citation, unit and answer ----------------------
DECISION_LABELS = {
    "tiep_thu": "Tiếp thu",
    "tiep_thu_mot_phan": "Tiếp thu một phần",
    "khong_tiep_thu": "Không tiếp thu",
    "giai_trinh": "Giải trình",
}
CONSOLIDATED = """
SELECT m.id, m.clause_id, m.text, u.name AS unit, d.decision, d.explanation
FROM comments m
JOIN unit_responses r ON r.id = m.response_id
JOIN units u ON u.id = m.unit_id
LEFT JOIN dispositions d ON d.id = m.disposition_id
WHERE m.consultation_id = :c AND (r.status = 'submitted' OR m.source = 'conference')
ORDER BY m.id"""


@bp.route("/consolidation/<int:consultation_id>")
def consolidation(consultation_id: int) -> str:
    from comments.consultation.models import TRACKER_LABELS
    from drafts.models import DRAFT_STATE_LABELS, DraftState

    k = _rows(ROUND_HEADER, c=consultation_id)[0]
    clauses = _clauses(k.version_id)
    labels = citation_labels(clauses)
    order = {c.id: c.seq for c in clauses}
    comments = sorted(
        _rows(CONSOLIDATED, c=consultation_id),
        key=lambda m: (order.get(m.clause_id, -1) if m.clause_id else -1, m.id),
    )
    rows: list[Row] = [
        (
            "comment",
            (
                (labels.get(m.clause_id, "Ý kiến chung") if m.clause_id else "Ý kiến chung", False),
                (m.unit, True),
                (m.text, True),
                (DECISION_LABELS.get(m.decision, "Chưa xử lý"), True),
                (m.explanation or "", bool(m.explanation)),
            ),
        )
        for m in comments
    ]
    invited = _invited_units(consultation_id, is_open=k.closed_at is None)
    decided = Counter(m.decision for m in comments)
    head: list[Row] = [
        (
            "round",
            (
                (k.title, True),
                (f"Dự thảo lần {k.version_number} · Lần lấy ý kiến thứ {k.round_number}", False),
                (DRAFT_STATE_LABELS[DraftState(k.draft_state)], True),
            ),
        ),
        (
            "figures",
            (
                (len(invited.units), False),
                (invited.answered, False),
                (invited.agreed, False),
                (len(comments), False),
                *((f"{label} {decided[key]}", False) for key, label in DECISION_LABELS.items()),
                (f"Chưa xử lý {decided[None]}", False),
                (f"Đã xử lý {len(comments) - decided[None]}/{len(comments)} ý kiến", False),
            ),
        ),
    ]
    units: list[Row] = [
        ("unit", ((r.unit, True), (TRACKER_LABELS[state], True)))
        for r, state, _submitted, _due in invited.units
    ]
    return render([*head, *rows, *units])


# --- the diff between two versions, with the comments behind each change ------------------
LINKED = """
SELECT c.lineage, m.text, u.name AS unit, d.decision
FROM change_links l
JOIN clauses c ON c.id = l.clause_id
JOIN versions v ON v.id = c.version_id
JOIN comments m ON m.id = l.comment_id
JOIN units u ON u.id = m.unit_id
LEFT JOIN dispositions d ON d.id = m.disposition_id
WHERE v.draft_id = :d AND v.number > :low AND v.number <= :high
ORDER BY l.comment_id"""
EARLIER = """
SELECT m.lineage, m.text, u.name AS unit, v.number, d.decision, d.explanation
FROM comments m
JOIN unit_responses r ON r.id = m.response_id
JOIN consultations k ON k.id = m.consultation_id
JOIN versions v ON v.id = k.version_id
JOIN units u ON u.id = m.unit_id
LEFT JOIN dispositions d ON d.id = m.disposition_id
WHERE m.draft_id = :d AND m.lineage IS NOT NULL AND v.number < :high
  AND (r.status = 'submitted' OR m.source = 'conference')
ORDER BY v.number, m.id"""


@bp.route("/diff/<int:old_id>/<int:new_id>")
def diff(old_id: int, new_id: int) -> str:
    versions = {
        row.id: row
        for row in _rows(
            "SELECT id, draft_id, number FROM versions WHERE id IN (:a, :b)", a=old_id, b=new_id
        )
    }
    old, new = versions[old_id], versions[new_id]
    entries = diff_versions(to_diff_clauses(_clauses(old_id)), to_diff_clauses(_clauses(new_id)))
    low, high = sorted((old.number, new.number))
    linked: dict[str, list[Any]] = defaultdict(list)
    for row in _rows(LINKED, d=new.draft_id, low=low, high=high):
        linked[row.lineage].append(row)
    earlier: dict[str, list[Any]] = defaultdict(list)
    for row in _rows(EARLIER, d=new.draft_id, high=new.number):
        earlier[row.lineage].append(row)
    rows: list[Row] = []
    for entry in entries:
        clause = entry.new or entry.old
        assert clause is not None
        body = (
            render_word_diff_html(entry.word_diff)
            if entry.word_diff
            else Markup.escape(clause.text)
        )
        rows.append(
            (
                "clause",
                (
                    (clause.label, False),
                    (", ".join(sorted(entry.changes)), False),
                    (heading(clause.kind, clause.number), False),
                    (body, not entry.changes and bool(clause.text)),
                ),
            )
        )
        for link in linked.get(entry.lineage, []):
            rows.append(("linked", ((link.unit, True), (link.text, True))))
        if entry.new is not None:
            for c in earlier.get(entry.lineage, []):
                rows.append(
                    (
                        "earlier",
                        (
                            (f"Ý kiến ở dự thảo lần {c.number}", False),
                            (c.unit, True),
                            (c.text, True),
                            (DECISION_LABELS.get(c.decision, ""), False),
                            (c.explanation or "", False),
                        ),
                    )
                )
    return render(rows)


# --- scoring results: every unit's totals per column, ranks and classification ----------
RESULT_PERIOD = """
SELECT p.name, p.bands_config, d.title,
       (SELECT SUM(c.max_points) FROM clauses c
        WHERE c.version_id = p.criteria_version_id AND c.parent_id IS NULL
          AND c.kind = 'criterion') AS total_max
FROM scoring_periods p JOIN drafts d ON d.id = p.criteria_draft_id
WHERE p.id = :p"""
RESULT_TOTALS = """
SELECT s.id, u.name AS unit, g.name AS grp, s.disqualifier, sc.stage, SUM(sc.value) AS total
FROM score_sheets s
JOIN units u ON u.id = s.unit_id
LEFT JOIN groups g ON g.id = s.group_id
LEFT JOIN scores sc ON sc.sheet_id = s.id
    AND NOT EXISTS (SELECT 1 FROM score_adjustments a WHERE a.key = sc.lineage)
WHERE s.period_id = :p
GROUP BY s.id, u.name, g.name, s.disqualifier, sc.stage"""
RESULT_ITEMS = """
SELECT a.sheet_id, a.key, a.kind, sc.stage, sc.value
FROM score_adjustments a
JOIN score_sheets s ON s.id = a.sheet_id
JOIN scores sc ON sc.sheet_id = a.sheet_id AND sc.lineage = a.key
WHERE s.period_id = :p AND sc.value IS NOT NULL"""
STAGES = ("self", "cluster", "verified")


@bp.route("/results/<int:period_id>")
def results(period_id: int) -> str:
    from workflow import scoring
    from workflow.models import bands_from_config
    from workflow.scoring import format_points

    period = _rows(RESULT_PERIOD, p=period_id)[0]
    total_max = Decimal(str(period.total_max))
    sheets: dict[int, dict[str, Any]] = {}
    for row in _rows(RESULT_TOTALS, p=period_id):
        sheet = sheets.setdefault(
            row.id,
            {"unit": row.unit, "group": row.grp or "", "out": row.disqualifier, "totals": {}},
        )
        if row.stage:
            sheet["totals"][row.stage] = Decimal(str(row.total or 0))
    # An item's points hold in every later column that does not change them.
    items: dict[tuple[int, str], dict[str, Any]] = {}
    for row in _rows(RESULT_ITEMS, p=period_id):
        item = items.setdefault((row.sheet_id, row.key), {"kind": row.kind, "values": {}})
        item["values"][row.stage] = Decimal(str(row.value))
    for (sheet_id, _key), item in items.items():
        totals = sheets[sheet_id]["totals"]
        held = Decimal(0)
        for stage in STAGES:
            held = item["values"].get(stage, held)
            if stage in totals:
                totals[stage] += held if item["kind"] == "bonus" else -held
    stages = [
        s for s in ("self", "cluster", "verified") if any(s in v["totals"] for v in sheets.values())
    ]
    final = stages[-1] if stages else "self"
    # Ranks and bands by the same pure rules as the page (group I ties aside).
    ranked = scoring.rank(
        [
            scoring.RankEntry(
                unit_id=sheet_id,
                group_id=sheet["group"],
                final_total=sheet["totals"].get(final, Decimal(0)),
                group_one_total=Decimal(0),
                disqualified=sheet["out"] is not None,
            )
            for sheet_id, sheet in sheets.items()
        ]
    )
    bands = period.bands_config
    bands = json.loads(bands) if isinstance(bands, str) else bands  # SQLite: JSON as text
    classified = scoring.classify(ranked, bands_from_config(bands, total_max))
    by_group: dict[str, list[scoring.Classified]] = defaultdict(list)
    for item in classified:
        by_group[item.ranked.entry.group_id].append(item)
    rows: list[Row] = [
        ("period", ((period.name, True), (period.title, True), (format_points(total_max), False)))
    ]
    for group in sorted(by_group):
        rows.append(("group", ((group, bool(group)),)))
        for item in by_group[group]:
            sheet = sheets[item.ranked.entry.unit_id]
            cells = [(sheet["unit"], True)]
            cells += [(format_points(sheet["totals"].get(stage)), False) for stage in stages]
            cells += [
                (item.ranked.group_rank, False),
                (item.ranked.overall_rank, False),
                (item.band.label, True),
                (sheet["out"] or "", bool(sheet["out"])),
            ]
            rows.append(("unit", cells))
    return render(rows)


# --- submission floor: one raw INSERT per request -----------------------------------------
INSERT_COMMENT = """
INSERT INTO comments (consultation_id, draft_id, response_id, unit_id, clause_id, lineage,
                      author_id, text, search_text, source, meeting_form, created_at,
                      updated_at, lock_version)
VALUES (:consultation_id, :draft_id, :response_id, :unit_id, :clause_id, NULL, :author_id,
        :text, :text, 'written', '', :at, :at, 1)
RETURNING id"""


@bp.route("/comments", methods=["POST"])
def bare_insert():  # type: ignore[no-untyped-def]
    body = request.get_json(force=True)
    at = datetime.now(UTC)
    if engine().dialect.name == "sqlite":
        at = at.replace(tzinfo=None)
    with engine().begin() as conn:
        new_id = conn.execute(text(INSERT_COMMENT), {**body, "at": at}).scalar_one()
    return jsonify({"id": new_id}), 201


@bp.route("/ping")
def ping() -> str:
    return "ok"


# --- the app ------------------------------------------------------------------------------
def register(app: Flask, database_url: str, prefix: str = "/__floor") -> None:
    from config import normalise_database_url

    app.extensions["floor_engine"] = create_engine(normalise_database_url(database_url))
    app.extensions["floor_template"] = app.jinja_env.from_string(FLAT)
    app.register_blueprint(bp, url_prefix=prefix)


def create_floor_app(database_url: str | None = None) -> Flask:
    """A minimal Flask app with only the floors (gunicorn: ``bench.floors:create_floor_app()``)."""
    import extensions  # noqa: F401  (the SQLite pragmas: WAL, busy timeout)

    app = Flask("floor")
    register(app, database_url or os.environ["DATABASE_URL"])
    return app


def keys(html: str) -> list[str]:
    """The verbatim fields of a floor page (still HTML-escaped, as the page has them)."""
    import re

    return re.findall(r"<span class=k>(.*?)</span>", html, flags=re.S)
