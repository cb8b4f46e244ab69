"""The deadline scan: decide which reminders are due, then deliver them.

Two steps, each one transaction (the caller commits):

1. :func:`scan_due_reminders` decides. Each decision is a `Reminder` row, unique on
   (user, subject, deadline, kind, offset) and inserted with ON CONFLICT DO NOTHING,
   so a second scan, or two beats at once, decide nothing twice. Consultations are
   planned with one INSERT … SELECT per offset; score sheets with a constant number
   of queries and bulk inserts. Nothing here issues a query per row.
2. :func:`deliver_due` claims the planned rows that may go out now (by each
   person's notify_mode), re-checks that every item is still due, writes the in-app
   notifications and ONE e-mail per person listing all their items.

Offsets that passed while the worker was down are folded: only the latest offset
whose window we are in is planned (after hours down at T−1, a unit gets the T−1
reminder, not T−3 and T−1). Deadline arithmetic is in the pure
:func:`offset_windows` and :func:`window_offset`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, selectinload

from accounts.clock import UTCDateTime, days_left, format_datetime, local_datetime_to_utc, to_local
from accounts.i18n import N_
from accounts.models import Group, GroupMembership, NotifyMode, Role, User, UserRole
from comments.consultation.models import Consultation, ResponseStatus, UnitResponse
from comments.consultation.operations import round_path
from drafts.models import Draft, DraftDrafter
from extensions import db
from notices.models import MailStatus, Notification, OutgoingMail
from notices.notify import new_message_id
from tasks.mail import MailItem, absolute_url, items_summary, mail_locale
from tasks.models import Reminder, ReminderKind, ReminderStatus, SubjectType
from workflow import sheetflow
from workflow.models import (
    ADJUSTMENT_KIND_LABELS,
    Evidence,
    ReviewerRule,
    Score,
    ScoreAdjustment,
    ScoreSheet,
    ScoreStage,
    ScoringPeriod,
    group_reviewer_unit,
    pending_step,
)
from workflow.operations import sheet_url
from workflow.queries import load_criteria

REVIEW_NAMES = {ScoreStage.CLUSTER: N_("Cụm chấm"), ScoreStage.VERIFIED: N_("thẩm định")}
KEY_COLUMNS = ("user_id", "subject_type", "subject_id", "deadline", "kind", "offset_days")
CHUNK = 500


# --- pure deadline arithmetic ------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """Deadlines for which reminder `offset` is the one due at the scan's moment:
    lower <= deadline < upper (lower None: any deadline still ahead)."""

    offset: int
    lower: datetime | None
    upper: datetime


def offset_windows(moment: datetime, offsets: Iterable[int]) -> list[Window]:
    """T−k is due from the start of the local day k days before the deadline's day,
    until the next smaller offset becomes due. So days_left ∈ (next smaller k, k]."""
    today = to_local(moment).date()
    ordered = sorted({int(k) for k in offsets if int(k) >= 0}, reverse=True)
    windows = []
    for index, k in enumerate(ordered):
        upper = local_datetime_to_utc(today + timedelta(days=k + 1))
        smaller = ordered[index + 1] if index + 1 < len(ordered) else None
        lower = (
            None if smaller is None else local_datetime_to_utc(today + timedelta(days=smaller + 1))
        )
        windows.append(Window(k, lower, upper))
    return windows


def window_offset(deadline: datetime, moment: datetime, offsets: Iterable[int]) -> int | None:
    """The offset due for `deadline` at `moment`, or None (too early, or passed)."""
    if deadline <= moment:
        return None
    for window in offset_windows(moment, offsets):
        if deadline < window.upper and (window.lower is None or deadline >= window.lower):
            return window.offset
    return None


def _cfg_offsets(key: str) -> list[int]:
    return [int(k) for k in current_app.config[key]]


def _catch_up(moment: datetime) -> datetime:
    """Deadlines older than this are history: the scan no longer tells anyone about them."""
    return moment - timedelta(days=int(current_app.config["REMINDER_CATCH_UP_DAYS"]))


# --- inserting decisions -------------------------------------------------------------------
def _dialect_insert(table: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def _plan_from_select(columns: Sequence[Any]) -> int:
    """INSERT … SELECT … ON CONFLICT DO NOTHING; returns the number of new decisions."""
    names = [
        "user_id",
        "subject_type",
        "subject_id",
        "deadline",
        "kind",
        "offset_days",
        "escalation",
        "status",
        "by_email",
        "attempts",
        "last_error",
        "created_at",
    ]
    stmt = (
        _dialect_insert(Reminder.__table__)
        .from_select(names, columns)
        .on_conflict_do_nothing(index_elements=list(KEY_COLUMNS))
        .returning(Reminder.__table__.c.id)
    )
    # RETURNING counts reliably on both databases (rowcount of INSERT does not).
    return len(db.session.execute(stmt).all())


def _plan_rows(rows: Sequence[Mapping[str, Any]]) -> int:
    """Bulk insert of decisions computed in Python, ignoring ones already made."""
    created = 0
    for start in range(0, len(rows), CHUNK):
        chunk = [
            {
                **row,
                "status": ReminderStatus.PLANNED.value,
                "by_email": False,
                "attempts": 0,
                "last_error": "",
            }
            for row in rows[start : start + CHUNK]
        ]
        stmt = (
            _dialect_insert(Reminder.__table__)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=list(KEY_COLUMNS))
            .returning(Reminder.__table__.c.id)
        )
        created += len(db.session.execute(stmt).all())
    return created


def _decision_columns(
    user_id: Any,
    subject: SubjectType,
    subject_id: Any,
    deadline: Any,
    kind: ReminderKind,
    offset: int,
    escalation: bool,
    moment: datetime,
) -> list[Any]:
    return [
        user_id,
        literal(subject.value, String()),
        subject_id,
        deadline,
        literal(kind.value, String()),
        literal(offset, Integer()),
        literal(escalation, Boolean()),
        literal(ReminderStatus.PLANNED.value, String()),
        literal(False, Boolean()),
        literal(0, Integer()),
        literal("", String()),
        literal(moment, UTCDateTime()),
    ]


# --- consultations -------------------------------------------------------------------------
def _plan_consultation_due(moment: datetime, consultation_id: int | None) -> int:
    """T−k reminders to every active user of each unit that has not submitted.

    The stored deadline (`due_at`, extension included) is an index range, so only
    the responses due in the window are read, however many rounds are open. A row
    written without it (raw SQL) is still found, through the same index."""
    computed = func.coalesce(UnitResponse.deadline_override, Consultation.closes_at)
    created = 0
    for window in offset_windows(moment, _cfg_offsets("REMINDER_CONSULTATION_OFFSETS_DAYS")):

        def due(deadline: Any, window: Window = window) -> Any:
            bounds = [deadline > moment, deadline < window.upper]
            if window.lower is not None:
                bounds.append(deadline >= window.lower)
            return and_(*bounds)

        columns = _decision_columns(
            User.id,
            SubjectType.UNIT_RESPONSE,
            UnitResponse.id,
            func.coalesce(UnitResponse.due_at, computed),
            ReminderKind.CONSULTATION_DUE,
            window.offset,
            False,
            moment,
        )
        query = (
            select(*columns)
            .select_from(UnitResponse)
            .join(Consultation, Consultation.id == UnitResponse.consultation_id)
            .join(User, User.unit_id == UnitResponse.unit_id)
            .where(
                or_(
                    due(UnitResponse.due_at),
                    and_(UnitResponse.due_at.is_(None), due(computed)),
                ),
                UnitResponse.status != ResponseStatus.SUBMITTED,
                Consultation.closed_at.is_(None),
                Consultation.opens_at <= moment,
                User.active.is_(True),
            )
        )
        if consultation_id is not None:
            query = query.where(Consultation.id == consultation_id)
        created += _plan_from_select(query)
    return created


def _plan_consultation_closed(moment: datetime, consultation_id: int | None) -> int:
    """At the round's deadline, tell its drafters which units did not answer."""
    missing = (
        select(UnitResponse.id)
        .where(
            UnitResponse.consultation_id == Consultation.id,
            UnitResponse.status != ResponseStatus.SUBMITTED,
        )
        .exists()
    )
    columns = _decision_columns(
        User.id,
        SubjectType.CONSULTATION,
        Consultation.id,
        Consultation.closes_at,
        ReminderKind.CONSULTATION_CLOSED,
        0,
        False,
        moment,
    )
    query = (
        select(*columns)
        .select_from(Consultation)
        .join(DraftDrafter, DraftDrafter.draft_id == Consultation.draft_id)
        .join(User, User.id == DraftDrafter.user_id)
        .where(
            Consultation.closes_at <= moment,
            Consultation.closes_at > _catch_up(moment),
            # A round the drafter ended early has no "close" to report.
            or_(Consultation.closed_at.is_(None), Consultation.closed_at >= Consultation.closes_at),
            User.active.is_(True),
            missing,
        )
    )
    if consultation_id is not None:
        query = query.where(Consultation.id == consultation_id)
    return _plan_from_select(query)


def _plan_consultation_now(moment: datetime, consultation_id: int) -> int:
    """ "Gửi ngay" for one round: remind every unit still waiting, whatever the
    offset (the offset recorded is the days left, so a second click the same day
    decides nothing new), and the drafters if the deadline has passed."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or consultation.closed_at is not None or consultation.opens_at > moment:
        return 0
    waiting = [r for r in consultation.responses if not r.is_submitted and r.deadline > moment]
    members = _active_members([r.unit_id for r in waiting])
    rows = [
        _row(
            user_id,
            SubjectType.UNIT_RESPONSE,
            r.id,
            r.deadline,
            ReminderKind.CONSULTATION_DUE,
            max(days_left(r.deadline, moment), 0),
            False,
            moment,
        )
        for r in waiting
        for user_id in members.get(r.unit_id, [])
    ]
    return _plan_rows(rows) + _plan_consultation_closed(moment, consultation_id)


def _active_members(unit_ids: Sequence[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    if unit_ids:
        query = select(User.id, User.unit_id).where(User.unit_id.in_(set(unit_ids)), User.active)
        for user_id, unit_id in db.session.execute(query):
            members[unit_id].append(user_id)
    return members


def _row(
    user_id: int,
    subject: SubjectType,
    subject_id: int,
    deadline: datetime,
    kind: ReminderKind,
    offset: int,
    escalation: bool,
    moment: datetime,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "subject_type": subject.value,
        "subject_id": subject_id,
        "deadline": deadline,
        "kind": kind.value,
        "offset_days": offset,
        "escalation": escalation,
        "created_at": moment,
    }


# --- score sheets ----------------------------------------------------------------------------
@dataclass
class Roster:
    """Active people by role, loaded once per scan."""

    heads: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    staff: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    verifiers: set[int] = field(default_factory=set)
    council: set[int] = field(default_factory=set)

    @classmethod
    def load(cls) -> Roster:
        roster = cls()
        query = (
            select(User.id, User.unit_id, UserRole.role)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.active.is_(True))
        )
        for user_id, unit_id, role in db.session.execute(query):
            if role == Role.UNIT_HEAD:
                roster.heads[unit_id].add(user_id)
            elif role == Role.UNIT_STAFF:
                roster.staff[unit_id].add(user_id)
            elif role == Role.OFFICE_VERIFIER:
                roster.verifiers.add(user_id)
            elif role == Role.COUNCIL_MEMBER:
                roster.council.add(user_id)
        return roster


@dataclass
class SheetFacts:
    """What the reminders need to know about one sheet, computed in bulk."""

    sheet: ScoreSheet
    step: sheetflow.StepSpec | None
    holders: set[int]
    supervisors: set[int]
    missing_evidence: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


def _people(
    sheet: ScoreSheet, step: sheetflow.StepSpec, roster: Roster
) -> tuple[set[int], set[int]]:
    """Holders and supervisors: the same rules as workflow.models.holders_of and
    supervisors_of, answered from the roster instead of a query per sheet."""
    reviewer = group_reviewer_unit(sheet.group, sheet.unit_id)
    if step.key == sheetflow.SELF_STEP_KEY:
        holders = roster.heads[sheet.unit_id] | roster.staff[sheet.unit_id]
        supervisors = roster.heads[sheet.unit_id] | (
            roster.heads[reviewer.id] if reviewer else set()
        )
        return holders, supervisors
    rule = sheet.period.reviewer_rule(step.key)
    if rule == ReviewerRule.GROUP:
        holders = set(roster.heads[reviewer.id]) if reviewer else set(roster.verifiers)
    elif rule == ReviewerRule.OFFICE:
        holders = set(roster.verifiers)
    else:
        holders = set(roster.council)
    supervisors = set(roster.council) if rule == ReviewerRule.OFFICE else set(roster.verifiers)
    return holders, supervisors


def load_sheet_facts(condition: Any, *, moment: datetime) -> dict[int, SheetFacts]:
    """Facts for every sheet matching `condition`, with a constant number of queries."""
    sheets = list(
        db.session.scalars(
            select(ScoreSheet)
            .where(condition, ScoreSheet.due_at.is_not(None))
            .options(
                joinedload(ScoreSheet.period).selectinload(ScoringPeriod.deadlines),
                joinedload(ScoreSheet.unit),
                joinedload(ScoreSheet.group)
                .selectinload(Group.memberships)
                .joinedload(GroupMembership.unit),
            )
        ).unique()
    )
    if not sheets:
        return {}
    roster = Roster.load()
    facts: dict[int, SheetFacts] = {}
    reviewed: list[int] = []
    for sheet in sheets:
        step = pending_step(sheet.period.steps, sheet.state)
        if step is None:
            continue
        holders, supervisors = _people(sheet, step, roster)
        facts[sheet.id] = SheetFacts(sheet, step, holders, supervisors)
        if step.key != sheetflow.SELF_STEP_KEY:
            reviewed.append(sheet.id)
    if reviewed:
        _add_score_flags(facts, condition)
    return facts


def _add_score_flags(facts: dict[int, SheetFacts], condition: Any) -> None:
    """Missing evidence on self-scores, and large self/review gaps, for sheets past
    self-scoring. Three queries whatever the number of sheets."""
    past_self = and_(
        condition,
        ScoreSheet.due_at.is_not(None),
        ScoreSheet.state.not_in([sheetflow.NOT_STARTED, sheetflow.SELF_SCORING]),
    )
    scores: dict[int, dict[str, dict[ScoreStage, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for sheet_id, lineage, stage, value in db.session.execute(
        select(Score.sheet_id, Score.lineage, Score.stage, Score.value)
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .where(past_self, Score.value.is_not(None))
    ):
        scores[sheet_id][lineage][stage] = value
    evidence: dict[int, set[str | None]] = defaultdict(set)
    for sheet_id, lineage in db.session.execute(
        select(Evidence.sheet_id, Evidence.lineage)
        .join(ScoreSheet, ScoreSheet.id == Evidence.sheet_id)
        .where(past_self)
    ):
        evidence[sheet_id].add(lineage)
    labels = _criterion_labels({f.sheet.period.criteria_version_id for f in facts.values()})
    items = _item_labels(past_self)
    gap_limit = Decimal(str(current_app.config["REMINDER_SCORE_GAP_POINTS"]))
    for sheet_id, by_lineage in scores.items():
        fact = facts.get(sheet_id)
        if fact is None or fact.step is None or fact.step.key == sheetflow.SELF_STEP_KEY:
            continue
        version_labels = {
            **labels.get(fact.sheet.period.criteria_version_id, {}),
            **items.get(sheet_id, {}),
        }
        whole_sheet = None in evidence[sheet_id]
        for lineage, values in sorted(
            by_lineage.items(), key=lambda kv: version_labels.get(kv[0], kv[0])
        ):
            label = version_labels.get(lineage, lineage)
            own = values.get(ScoreStage.SELF)
            if own is None:
                continue
            if not whole_sheet and lineage not in evidence[sheet_id]:
                fact.missing_evidence.append(label)
            for stage in (ScoreStage.CLUSTER, ScoreStage.VERIFIED):
                review = values.get(stage)
                if review is not None and abs(own - review) > gap_limit:
                    fact.gaps.append(
                        gettext(
                            "%(label)s: tự chấm %(own)s, %(stage)s %(review)s",
                            label=label,
                            own=_points(own),
                            stage=gettext(REVIEW_NAMES[stage]),
                            review=_points(review),
                        )
                    )


def _criterion_labels(version_ids: set[int]) -> dict[int, dict[str, str]]:
    """Each criterion's label as every page writes it: its code, unique across the
    table ("II.1", not a second "1"), and its title. One query per criteria table."""
    return {
        version_id: {row.key: f"{row.code} {row.title}".strip() for row in table.rows}
        for version_id, table in ((v, load_criteria(v)) for v in sorted(version_ids))
    }


def _item_labels(condition: Any) -> dict[int, dict[str, str]]:
    """The bonus and deduction items of the sheets matching ``condition``, named as the
    sheet names them ("Điểm thưởng: Bằng khen của UBND tỉnh")."""
    labels: dict[int, dict[str, str]] = defaultdict(dict)
    for sheet_id, key, kind, reason in db.session.execute(
        select(
            ScoreAdjustment.sheet_id,
            ScoreAdjustment.key,
            ScoreAdjustment.kind,
            ScoreAdjustment.reason,
        )
        .join(ScoreSheet, ScoreSheet.id == ScoreAdjustment.sheet_id)
        .where(condition)
    ):
        labels[sheet_id][key] = f"{gettext(ADJUSTMENT_KIND_LABELS[kind])}: {reason}"
    return labels


def _points(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    return text.replace(".", ",")


def _sheet_rows(
    facts: Mapping[int, SheetFacts], moment: datetime, *, force: bool
) -> list[dict[str, Any]]:
    offsets = _cfg_offsets("REMINDER_SHEET_OFFSETS_DAYS")
    rows: list[dict[str, Any]] = []
    for fact in facts.values():
        sheet = fact.sheet
        due = sheet.due_at
        assert due is not None
        if due > moment:
            offset = (
                max(days_left(due, moment), 0) if force else window_offset(due, moment, offsets)
            )
            if offset is not None:
                rows += [
                    _row(
                        u,
                        SubjectType.SCORE_SHEET,
                        sheet.id,
                        due,
                        ReminderKind.SHEET_DUE,
                        offset,
                        False,
                        moment,
                    )
                    for u in sorted(fact.holders)
                ]
        elif force or due > _catch_up(moment):
            rows += [
                _row(
                    u,
                    SubjectType.SCORE_SHEET,
                    sheet.id,
                    due,
                    ReminderKind.SHEET_OVERDUE,
                    0,
                    True,
                    moment,
                )
                for u in sorted(fact.supervisors)
            ]
        for kind, present in (
            (ReminderKind.MISSING_EVIDENCE, fact.missing_evidence),
            (ReminderKind.SCORE_GAP, fact.gaps),
        ):
            if present:
                rows += [
                    _row(u, SubjectType.SCORE_SHEET, sheet.id, due, kind, 0, False, moment)
                    for u in sorted(fact.holders)
                ]
    return rows


def _plan_sheets(moment: datetime, sheet_id: int | None) -> int:
    if sheet_id is not None:
        condition = ScoreSheet.id == sheet_id
    else:
        horizon = max(_cfg_offsets("REMINDER_SHEET_OFFSETS_DAYS") or [0]) + 1
        upper = local_datetime_to_utc(to_local(moment).date() + timedelta(days=horizon))
        due = select(ScoreSheet.id).where(
            ScoreSheet.due_at > _catch_up(moment), ScoreSheet.due_at < upper
        )
        # Sheets further ahead still matter for evidence and gap flags once submitted.
        # Only the flagged ones are read, through the indexed summaries the flags are
        # derived from (`_add_score_flags` then checks them exactly).
        later = and_(
            ScoreSheet.due_at >= upper,
            ScoreSheet.state.not_in([sheetflow.NOT_STARTED, sheetflow.SELF_SCORING]),
        )
        gap_limit = Decimal(str(current_app.config["REMINDER_SCORE_GAP_POINTS"]))
        condition = ScoreSheet.id.in_(
            union_all(
                due,
                select(ScoreSheet.id).where(later, ScoreSheet.evidence_missing.is_(True)),
                select(ScoreSheet.id).where(later, ScoreSheet.score_gap > gap_limit),
            )
        )
    facts = load_sheet_facts(condition, moment=moment)
    return _plan_rows(_sheet_rows(facts, moment, force=sheet_id is not None))


# --- the scan --------------------------------------------------------------------------------
def scan_due_reminders(
    moment: datetime, *, consultation_id: int | None = None, sheet_id: int | None = None
) -> dict[str, int]:
    """Record every reminder due at `moment` as a planned row; returns counts by area.

    With `consultation_id` or `sheet_id` only that object is scanned, and reminders
    are decided whatever the offset ("Gửi ngay").
    """
    counts: dict[str, int] = {}
    if sheet_id is None:
        if consultation_id is None:
            counts["consultation_due"] = _plan_consultation_due(moment, None)
            counts["consultation_closed"] = _plan_consultation_closed(moment, None)
        else:
            counts["consultation"] = _plan_consultation_now(moment, consultation_id)
    if consultation_id is None:
        counts["score_sheet"] = _plan_sheets(moment, sheet_id)
    return counts


# --- describing (and re-checking) planned items -------------------------------------------------
class ReminderRef(NamedTuple):
    id: int
    user_id: int
    subject_type: SubjectType
    subject_id: int
    deadline: datetime
    kind: ReminderKind
    escalation: bool


REF_COLUMNS = (
    Reminder.id,
    Reminder.user_id,
    Reminder.subject_type,
    Reminder.subject_id,
    Reminder.deadline,
    Reminder.kind,
    Reminder.escalation,
)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def describe(refs: Sequence[ReminderRef], moment: datetime) -> dict[int, MailItem | str]:
    """For each reminder: the item to show if it is still due, or why it is not.

    This is the re-check before anything goes out: a unit that submitted, a
    deadline that was extended, a sheet that moved on, all cancel the reminder.
    """
    by_type: dict[SubjectType, list[ReminderRef]] = defaultdict(list)
    for ref in refs:
        by_type[ref.subject_type].append(ref)
    users = _user_units({ref.user_id for ref in refs})
    result: dict[int, MailItem | str] = {}
    result.update(_describe_responses(by_type[SubjectType.UNIT_RESPONSE], users, moment))
    result.update(_describe_consultations(by_type[SubjectType.CONSULTATION], moment))
    result.update(_describe_sheets(by_type[SubjectType.SCORE_SHEET], moment))
    for ref in refs:
        if users.get(ref.user_id, (None, False))[1] is False:
            result[ref.id] = "Tài khoản người nhận đã bị khóa."
    return result


def _user_units(user_ids: set[int]) -> dict[int, tuple[int, bool]]:
    found: dict[int, tuple[int, bool]] = {}
    for chunk in _chunks(user_ids):
        for user_id, unit_id, active in db.session.execute(
            select(User.id, User.unit_id, User.active).where(User.id.in_(chunk))
        ):
            found[user_id] = (unit_id, bool(active))
    return found


def _when(deadline: datetime, moment: datetime) -> str:
    stamp = format_datetime(deadline)
    left = days_left(deadline, moment)
    if deadline <= moment:
        return gettext("Hạn: %(time)s (đã quá hạn)", time=stamp)
    if left == 0:
        return gettext("Hạn: %(time)s (hôm nay)", time=stamp)
    return ngettext(
        "Hạn: %(time)s (còn %(num)d ngày)", "Hạn: %(time)s (còn %(num)d ngày)", left, time=stamp
    )


def _describe_responses(
    refs: Sequence[ReminderRef], users: Mapping[int, tuple[int, bool]], moment: datetime
) -> dict[int, MailItem | str]:
    responses: dict[int, UnitResponse] = {}
    for chunk in _chunks(ref.subject_id for ref in refs):
        for response in db.session.scalars(
            select(UnitResponse)
            .where(UnitResponse.id.in_(chunk))
            .options(
                joinedload(UnitResponse.consultation).joinedload(Consultation.draft),
                joinedload(UnitResponse.unit),
            )
        ):
            responses[response.id] = response
    # Every member of a unit gets the same item: build it once per response.
    per_response = {rid: _response_item(response, moment) for rid, response in responses.items()}
    result: dict[int, MailItem | str] = {}
    for ref in refs:
        response = responses.get(ref.subject_id)
        if response is None:
            result[ref.id] = "Đợt lấy ý kiến không còn tồn tại."
        elif response.deadline != ref.deadline:
            result[ref.id] = f"Hạn đã đổi thành {format_datetime(response.deadline)}."
        elif users.get(ref.user_id, (None, True))[0] != response.unit_id:
            result[ref.id] = "Người nhận không còn thuộc đơn vị."
        else:
            result[ref.id] = per_response[response.id]
    return result


def _response_item(response: UnitResponse, moment: datetime) -> MailItem | str:
    consultation = response.consultation
    if response.is_submitted:
        return "Đơn vị đã gửi ý kiến."
    if consultation.closed_at is not None:
        return "Đợt lấy ý kiến đã kết thúc."
    if response.deadline <= moment:
        return "Đã quá hạn trước khi kịp nhắc."
    return MailItem(
        title=gettext("Góp ý dự thảo “%(title)s”", title=consultation.draft.title),
        lines=(
            gettext(
                "Đơn vị %(unit)s chưa gửi ý kiến (%(round)s).",
                unit=response.unit.name,
                round=consultation.display_label.lower(),
            ),
            _when(response.deadline, moment),
        ),
        url=round_path(consultation),
        deadline=response.deadline,
    )


def _describe_consultations(
    refs: Sequence[ReminderRef], moment: datetime
) -> dict[int, MailItem | str]:
    consultations: dict[int, Consultation] = {}
    for chunk in _chunks(ref.subject_id for ref in refs):
        for consultation in db.session.scalars(
            select(Consultation)
            .where(Consultation.id.in_(chunk))
            .options(
                selectinload(Consultation.responses).joinedload(UnitResponse.unit),
                joinedload(Consultation.draft).selectinload(Draft.drafters),
            )
        ).unique():
            consultations[consultation.id] = consultation
    result: dict[int, MailItem | str] = {}
    for ref in refs:
        consultation = consultations.get(ref.subject_id)
        if consultation is None:
            result[ref.id] = "Đợt lấy ý kiến không còn tồn tại."
            continue
        waiting = sorted(
            (r for r in consultation.responses if not r.is_submitted), key=lambda r: r.unit.name
        )
        if consultation.closes_at != ref.deadline:
            result[ref.id] = f"Hạn đã đổi thành {format_datetime(consultation.closes_at)}."
        elif not waiting:
            result[ref.id] = "Tất cả đơn vị đã gửi ý kiến."
        elif not any(d.user_id == ref.user_id for d in consultation.draft.drafters):
            result[ref.id] = "Người nhận không còn là cán bộ soạn thảo."
        else:
            lines = [
                gettext(
                    "Hết hạn góp ý lúc %(time)s. Đơn vị chưa gửi ý kiến:",
                    time=format_datetime(consultation.closes_at),
                )
            ]
            for response in waiting:
                extended = (
                    gettext(" (được gia hạn đến %(time)s)", time=format_datetime(response.deadline))
                    if response.deadline > consultation.closes_at
                    else ""
                )
                lines.append(f"– {response.unit.name}{extended}")
            result[ref.id] = MailItem(
                title=ngettext(
                    "Dự thảo “%(title)s”: %(num)d đơn vị chưa gửi ý kiến",
                    "Dự thảo “%(title)s”: %(num)d đơn vị chưa gửi ý kiến",
                    len(waiting),
                    title=consultation.draft.title,
                ),
                lines=tuple(lines),
                url=round_path(consultation),
                deadline=consultation.closes_at,
            )
    return result


def _describe_sheets(refs: Sequence[ReminderRef], moment: datetime) -> dict[int, MailItem | str]:
    facts: dict[int, SheetFacts] = {}
    for chunk in _chunks(ref.subject_id for ref in refs):
        facts.update(load_sheet_facts(ScoreSheet.id.in_(chunk), moment=moment))
    result: dict[int, MailItem | str] = {}
    for ref in refs:
        fact = facts.get(ref.subject_id)
        if fact is None or fact.step is None:
            result[ref.id] = "Phiếu chấm điểm không còn chờ xử lý."
            continue
        result[ref.id] = _sheet_item(ref, fact, moment)
    return result


def _sheet_item(ref: ReminderRef, fact: SheetFacts, moment: datetime) -> MailItem | str:
    sheet, step = fact.sheet, fact.step
    assert step is not None and sheet.due_at is not None
    if sheet.due_at != ref.deadline:
        return f"Hạn đã đổi thành {format_datetime(sheet.due_at)}."
    title = gettext(
        "Phiếu chấm điểm %(unit)s – %(period)s", unit=sheet.unit.name, period=sheet.period.name
    )
    step_title = gettext(step.title)
    url = sheet_url(sheet)
    when = _when(sheet.due_at, moment)
    if ref.kind == ReminderKind.SHEET_DUE:
        if sheet.due_at <= moment:
            return "Đã quá hạn trước khi kịp nhắc."
        if ref.user_id not in fact.holders:
            return "Người nhận không còn phải xử lý phiếu này."
        return MailItem(
            f"{title}: {step_title}",
            (gettext("Bước “%(step)s” đang chờ bạn xử lý.", step=step_title), when),
            url,
            False,
            sheet.due_at,
        )
    if ref.kind == ReminderKind.SHEET_OVERDUE:
        if ref.user_id not in fact.supervisors:
            return "Người nhận không còn là người đôn đốc phiếu này."
        return MailItem(
            gettext("Quá hạn: %(title)s", title=title),
            (
                gettext(
                    "Bước “%(step)s” (%(who)s) chưa hoàn thành đúng hạn.",
                    step=step_title,
                    who=gettext(step.who),
                ),
                when,
            ),
            url,
            True,
            sheet.due_at,
        )
    if ref.user_id not in fact.holders:
        return "Người nhận không còn phải xử lý phiếu này."
    if ref.kind == ReminderKind.MISSING_EVIDENCE:
        if not fact.missing_evidence:
            return "Đã đủ minh chứng."
        lines = (
            gettext("Các tiêu chí tự chấm chưa có minh chứng:"),
            *(f"– {x}" for x in fact.missing_evidence),
            when,
        )
        title = gettext("Thiếu minh chứng: %(title)s", title=title)
        return MailItem(title, lines, url, False, sheet.due_at)
    if not fact.gaps:
        return "Không còn chênh lệch điểm lớn."
    limit = current_app.config["REMINDER_SCORE_GAP_POINTS"]
    lines = (
        gettext("Chênh lệch hơn %(limit)s điểm giữa điểm tự chấm và điểm xét duyệt:", limit=limit),
        *(f"– {x}" for x in fact.gaps),
        when,
    )
    title = gettext("Chênh lệch điểm: %(title)s", title=title)
    return MailItem(title, lines, url, False, sheet.due_at)


# --- delivering ------------------------------------------------------------------------------
@dataclass
class Delivery:
    mail_ids: list[int] = field(default_factory=list)
    in_app: int = 0
    cancelled: int = 0


@dataclass
class _Recipient:
    user_id: int
    email: str
    mode: NotifyMode
    locale: str
    items: list[tuple[int, MailItem]] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)  # digest-pending notifications


def deliver_due(
    moment: datetime,
    *,
    digest: bool = False,
    force: bool = False,
    subjects: Sequence[tuple[SubjectType, Sequence[int]]] = (),
) -> Delivery:
    """Claim the planned reminders that may go out now, re-check them, and write the
    in-app notices and one e-mail per person. The caller commits, then sends.

    Who gets what: `immediate` people and every escalation at each run; `daily`
    people at the digest run (or when an administrator presses "Gửi ngay": `force`);
    `off` people see reminders in the app only, and still get escalations by mail.
    """
    modes = [NotifyMode.IMMEDIATE, NotifyMode.OFF]
    if digest or force:
        modes.append(NotifyMode.DAILY)
    table = Reminder.__table__
    condition = and_(
        table.c.status == ReminderStatus.PLANNED.value,
        or_(
            table.c.escalation.is_(True),
            table.c.user_id.in_(select(User.id).where(User.notify_mode.in_(modes))),
        ),
    )
    if subjects:
        condition = and_(
            condition,
            or_(
                *(
                    and_(table.c.subject_type == kind.value, table.c.subject_id.in_(list(ids)))
                    for kind, ids in subjects
                )
            ),
        )
    # The UPDATE claims: a concurrent run waits for our commit, then finds nothing.
    claimed = [
        ReminderRef(*row)
        for row in db.session.execute(
            update(table)
            .where(condition)
            .values(status=ReminderStatus.SENDING.value)
            .returning(*(table.c[c.key] for c in REF_COLUMNS))
        )
    ]
    notices = _claim_digest_notices(moment) if digest else []
    delivery = Delivery()
    if not claimed and not notices:
        return delivery
    recipients = _recipients({r.user_id for r in claimed} | {n[1] for n in notices})
    described = _describe_for(claimed, recipients, moment)
    cancels, in_app_only = [], []
    for ref in claimed:
        outcome = described.get(ref.id, "Không xác định được nội dung nhắc việc.")
        if isinstance(outcome, str):
            cancels.append({"rid": ref.id, "reason": outcome})
            continue
        recipient = recipients[ref.user_id]
        recipient.items.append((ref.id, outcome))
    for notice_id, user_id in notices:
        recipients[user_id].notices.append(notice_id)
    _cancel(cancels)
    delivery.cancelled = len(cancels)
    mails, reminder_updates, notice_updates, new_notices = [], [], [], []
    for recipient in recipients.values():
        mailed = [
            (rid, item)
            for rid, item in recipient.items
            if recipient.email and (recipient.mode != NotifyMode.OFF or item.escalation)
        ]
        mailed_ids = {rid for rid, _item in mailed}
        in_app_only += [rid for rid, _item in recipient.items if rid not in mailed_ids]
        message_id = None
        if mailed or (recipient.notices and recipient.email):
            message_id = new_message_id()
            items = [item for _rid, item in mailed]
            with force_locale(recipient.locale):
                subject = (
                    items_summary(items) if items else gettext("[Draftflow] Thông báo trong ngày")
                )
            mails.append(
                {
                    "user_id": recipient.user_id,
                    "to_address": recipient.email,
                    "kind": "digest",
                    "subject": subject,
                    "message_id": message_id,
                    "escalation": any(i.escalation for i in items),
                    "status": MailStatus.QUEUED.value,
                    "attempts": 0,
                    "last_error": "",
                    "next_attempt_at": moment,
                    "created_at": moment,
                }
            )
        for rid, item in recipient.items:
            new_notices.append(
                _notice_row(
                    recipient.user_id, rid, item, moment, message_id if rid in mailed_ids else None
                )
            )
        reminder_updates += [(rid, message_id) for rid in mailed_ids]
        notice_updates += [(nid, message_id) for nid in recipient.notices if message_id]
    mail_ids = _insert_mails(mails)
    _link_reminders(reminder_updates, mail_ids, in_app_only, moment)
    _insert_notices(new_notices, mail_ids)
    _link_notices(notice_updates, mail_ids)
    delivery.mail_ids = sorted(mail_ids.values())
    delivery.in_app = len(new_notices)
    return delivery


def _describe_for(
    refs: Sequence[ReminderRef], recipients: Mapping[int, _Recipient], moment: datetime
) -> dict[int, MailItem | str]:
    """`describe`, each reminder written in its recipient's language (the in-app notice
    keeps that text; the mail is written again when it is sent, see `compose_mail`)."""
    by_locale: dict[str, list[ReminderRef]] = defaultdict(list)
    for ref in refs:
        by_locale[recipients[ref.user_id].locale].append(ref)
    described: dict[int, MailItem | str] = {}
    for locale, some in by_locale.items():
        with force_locale(locale):
            described.update(describe(some, moment))
    return described


def _claim_digest_notices(moment: datetime) -> list[tuple[int, int]]:
    table = Notification.__table__
    daily = select(User.id).where(User.notify_mode == NotifyMode.DAILY)
    return [
        (row[0], row[1])
        for row in db.session.execute(
            update(table)
            .where(table.c.digest_pending.is_(True), table.c.user_id.in_(daily))
            .values(digest_pending=False)
            .returning(table.c.id, table.c.user_id)
        )
    ]


def _recipients(user_ids: set[int]) -> dict[int, _Recipient]:
    found: dict[int, _Recipient] = {}
    for chunk in _chunks(user_ids):
        for user_id, email, mode, active, locale in db.session.execute(
            select(User.id, User.email, User.notify_mode, User.active, User.locale).where(
                User.id.in_(chunk)
            )
        ):
            address = (email or "").strip() if active else ""
            found[user_id] = _Recipient(user_id, address, mode, mail_locale(locale))
    return found


def _cancel(cancels: Sequence[Mapping[str, Any]]) -> None:
    if not cancels:
        return
    table = Reminder.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == bindparam("rid"))
        .values(status=ReminderStatus.CANCELLED.value, last_error=bindparam("reason")),
        list(cancels),
    )


def _notice_row(
    user_id: int, reminder_id: int, item: MailItem, moment: datetime, message_id: str | None
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "kind": "reminder",
        "title": item.title[:500],
        "body": "\n".join(item.lines),
        "url": item.url[:500],
        "escalation": item.escalation,
        "created_at": moment,
        "reminder_id": reminder_id,
        "digest_pending": False,
        "_message_id": message_id,
    }


def _insert_mails(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert the mails; returns message_id → id."""
    ids: dict[str, int] = {}
    table = OutgoingMail.__table__
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        for mail_id, message_id in db.session.execute(
            table.insert().values(list(chunk)).returning(table.c.id, table.c.message_id)
        ):
            ids[message_id] = mail_id
    return ids


def _link_reminders(
    mailed: Sequence[tuple[int, str | None]],
    mail_ids: Mapping[str, int],
    in_app_only: Sequence[int],
    moment: datetime,
) -> None:
    table = Reminder.__table__
    if mailed:
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("rid"))
            .values(mail_id=bindparam("mid"), by_email=True, next_attempt_at=moment),
            [{"rid": rid, "mid": mail_ids[mid]} for rid, mid in mailed if mid],
        )
    if in_app_only:
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("rid"))
            .values(status=ReminderStatus.SENT.value, by_email=False, sent_at=moment),
            [{"rid": rid} for rid in in_app_only],
        )


def _insert_notices(rows: Sequence[dict[str, Any]], mail_ids: Mapping[str, int]) -> None:
    if not rows:
        return
    prepared = []
    for row in rows:
        message_id = row.pop("_message_id")
        prepared.append({**row, "mail_id": mail_ids.get(message_id) if message_id else None})
    table = Notification.__table__
    for start in range(0, len(prepared), CHUNK):
        db.session.execute(table.insert(), prepared[start : start + CHUNK])


def _link_notices(updates: Sequence[tuple[int, str | None]], mail_ids: Mapping[str, int]) -> None:
    if not updates:
        return
    table = Notification.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("nid")).values(mail_id=bindparam("mid")),
        [{"nid": nid, "mid": mail_ids[mid]} for nid, mid in updates if mid],
    )


# --- composing a mail when it is sent ---------------------------------------------------
@dataclass(frozen=True)
class MailContent:
    items: list[MailItem]  # reminders still due, escalations first
    notices: list[MailItem]  # notices from operations (notices.notify)


def compose_mail(mail: OutgoingMail, moment: datetime) -> MailContent:
    """What `mail` says now. Reminders that are no longer due are cancelled here,
    just before sending: a deadline extended since the decision, a unit that
    submitted in the meantime. The caller sets the recipient's language
    (`force_locale`)."""
    table = Reminder.__table__
    refs = [
        ReminderRef(*row)
        for row in db.session.execute(
            select(*(table.c[c.key] for c in REF_COLUMNS)).where(
                table.c.mail_id == mail.id, table.c.status == ReminderStatus.SENDING.value
            )
        )
    ]
    described = describe(refs, moment)
    cancels = [
        {"rid": rid, "reason": outcome}
        for rid, outcome in described.items()
        if isinstance(outcome, str)
    ]
    _cancel(cancels)
    items = [
        _absolute(outcome) for ref in refs if isinstance(outcome := described.get(ref.id), MailItem)
    ]
    items.sort(key=lambda item: (not item.escalation, item.deadline or moment))
    notices = [
        MailItem(n.title, tuple(n.body.splitlines()), absolute_url(n.url), n.escalation)
        for n in db.session.scalars(
            select(Notification)
            .where(Notification.mail_id == mail.id, Notification.reminder_id.is_(None))
            .order_by(Notification.id)
        )
    ]
    return MailContent(items, notices)


def _absolute(item: MailItem) -> MailItem:
    return MailItem(item.title, item.lines, absolute_url(item.url), item.escalation, item.deadline)
