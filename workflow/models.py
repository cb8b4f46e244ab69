"""Scoring periods, score sheets, scores, evidence and each sheet's audit trail.

One ScoringPeriod applies an adopted criteria table (a Draft's adopted Version) to
a set of units; each unit gets one ScoreSheet. A sheet moves through the period's
steps (data, see ``workflow.sheetflow``); ``workflow.operations.apply_sheet_action``
is the only place its ``state`` changes.

Deadlines, for the reminder scan:

* every step of a period has a deadline (``PeriodDeadline``);
* the office may extend one step for one sheet (``SheetDeadlineExtension``);
* ``ScoreSheet.due_at`` is the deadline of the step the sheet is waiting for now,
  extension included; it is ``None`` once the last step is done. Operations keep it
  current on every transition and extension, so a scan reads one column.
* ``ScoreSheet.evidence_missing`` and ``ScoreSheet.score_gap`` summarise the
  sheet's scores and evidence, so the scan finds the sheets to flag (missing
  evidence, a large gap) without reading every sheet's scores; every flush that
  writes a score or an evidence row refreshes them (``_refresh_review_flags``).
* ``holders_of(sheet)`` are the people who must act now; ``supervisors_of(sheet)``
  the ones to escalate to once it is overdue.

Scores are kept per (sheet, key, stage): the self-score, the cluster's score and
the verified score are three rows, and no stage ever overwrites another. Every
change is also kept in ``ScoreChange``. A later column holds what the column before
it holds unless it stores a value of its own (``scoring.carry_forward``): a review
that leaves a value alone keeps it.

Bonus and deduction points have one model: a ``ScoreAdjustment`` (what the item is:
kind, reason, the table's bonus or deduction row it is filed under) whose points in
each column are ``Score`` rows keyed by the adjustment's ``key``, exactly as a
criterion's are keyed by its lineage. The table's bonus and deduction rows are never
scored directly.

A period's results are published by a transition of the period (``PERIOD_MACHINE``):
before it, units see only their own sheet; after it, each unit sees its own result and
the drafters see every unit's.

Who reviews a sheet at the cluster step: the head of the leader unit of the
sheet's Cụm/Khối. A leader never reviews its own unit's sheet: for that sheet the
head of the deputy unit (Cụm phó) acts. When the group has no such unit (or the
unit is in no group) the office (Thường trực Hội đồng) does the cluster step.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Update,
    and_,
    event,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from accounts.clock import UTCDateTime, now
from accounts.i18n import N_
from accounts.models import EmulationYear, Group, Role, Unit, User, UserRole, enum_type
from app import db
from drafts.models import Draft, Version
from workflow import scoring, sheetflow
from workflow.engine import Guard, Machine, Transition


class ScoreStage(enum.StrEnum):
    """The three score columns users know from the paper score sheet."""

    SELF = "self"  # Điểm tự chấm
    CLUSTER = "cluster"  # Điểm Cụm chấm
    VERIFIED = "verified"  # Điểm thẩm định


STAGE_LABELS = {
    ScoreStage.SELF: N_("Điểm tự chấm"),
    ScoreStage.CLUSTER: N_("Điểm Cụm chấm"),
    ScoreStage.VERIFIED: N_("Điểm thẩm định"),
}
# The same inside a sentence ("Cụm" keeps its capital).
STAGE_NOUNS = {
    ScoreStage.SELF: N_("điểm tự chấm"),
    ScoreStage.CLUSTER: N_("điểm Cụm chấm"),
    ScoreStage.VERIFIED: N_("điểm thẩm định"),
}


class ReviewerRule(enum.StrEnum):
    """Who performs a review step; configurable per step as data."""

    GROUP = "group"  # the Cụm/Khối leader (deputy for the leader's own unit)
    OFFICE = "office"  # Thường trực Hội đồng (office verifiers)
    COUNCIL = "council"  # Hội đồng Thi đua - Khen thưởng


DEFAULT_REVIEWERS: Mapping[str, ReviewerRule] = {
    "cluster": ReviewerRule.GROUP,
    "block": ReviewerRule.GROUP,
    "office": ReviewerRule.OFFICE,
    "council": ReviewerRule.COUNCIL,
}
# The score column each kind of step fills in; the council decides, it does not score.
STAGE_FOR_RULE: Mapping[ReviewerRule, ScoreStage | None] = {
    ReviewerRule.GROUP: ScoreStage.CLUSTER,
    ReviewerRule.OFFICE: ScoreStage.VERIFIED,
    ReviewerRule.COUNCIL: None,
}


class AdjustmentKind(enum.StrEnum):
    BONUS = "bonus"
    DEDUCTION = "deduction"


ADJUSTMENT_KIND_LABELS = {
    AdjustmentKind.BONUS: N_("Điểm thưởng"),
    AdjustmentKind.DEDUCTION: N_("Điểm trừ"),
}


class PeriodState(enum.StrEnum):
    SCORING = "scoring"  # sheets move through their steps; results are internal
    PUBLISHED = "published"  # results are published to the units


PERIOD_STATE_LABELS = {
    PeriodState.SCORING: N_("Đang chấm điểm"),
    PeriodState.PUBLISHED: N_("Đã công bố kết quả"),
}
PUBLISH = "publish"
UNPUBLISH = "unpublish"


def can_open_period(user: User) -> bool:
    """Only the office (Thường trực Hội đồng) or an administrator opens a period."""
    return user.can_verify_scores() or user.can_administer()


def _decides_scores(period: Any, actor: User | None) -> bool:
    return actor is not None and actor.can_decide_scores()


def period_machine(publish_guard: Guard | None = None) -> Machine:
    """Publication as a transition table: the council publishes the results once every
    sheet is approved (the guard, given by the operation), and may withdraw them with a
    reason to correct something."""
    council = N_("Hội đồng Thi đua - Khen thưởng")
    scoring_state, published = PeriodState.SCORING.value, PeriodState.PUBLISHED.value
    return Machine(
        [
            Transition(
                scoring_state,
                PUBLISH,
                published,
                _decides_scores,
                publish_guard,
                False,
                N_("Công bố kết quả"),
                council,
            ),
            Transition(
                published,
                UNPUBLISH,
                scoring_state,
                _decides_scores,
                None,
                True,
                N_("Thu hồi công bố kết quả"),
                council,
            ),
        ],
        states=[state.value for state in PeriodState],
        labels={state.value: label for state, label in PERIOD_STATE_LABELS.items()},
    )


PERIOD_MACHINE = period_machine()


# --- periods ----------------------------------------------------------------------------------


class ScoringPeriod(db.Model):
    """One scoring round ("Năm 2026", "6 tháng đầu năm 2026") on an adopted table."""

    __tablename__ = "scoring_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id"), index=True)
    criteria_draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    criteria_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    # sheetflow.steps_from_config input: built-in keys or full StepSpec mappings.
    steps_config: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # step key -> ReviewerRule value, for every step after self-scoring.
    step_reviewers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {"bands": [{"key","label","min_points","first_in_group_only","no_disqualifier"}]};
    # periods opened before the bands held points keep {"bands": [{…,"min_fraction"}],
    # "disqualified_cap"}, which `bands_from_config` still reads. Empty: the defaults.
    bands_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Named disqualifying conditions, e.g. "Để xảy ra tham nhũng".
    disqualifiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    bonus_cap: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # Changed only by `operations.apply_period_action`, through PERIOD_MACHINE.
    state: Mapped[str] = mapped_column(
        String(20), default=PeriodState.SCORING.value, server_default=PeriodState.SCORING.value
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    year: Mapped[EmulationYear] = relationship()
    criteria_draft: Mapped[Draft] = relationship()
    criteria_version: Mapped[Version] = relationship()
    created_by: Mapped[User | None] = relationship()
    deadlines: Mapped[list[PeriodDeadline]] = relationship(
        back_populates="period", cascade="all, delete-orphan", lazy="selectin"
    )
    sheets: Mapped[list[ScoreSheet]] = relationship(
        back_populates="period", cascade="all, delete-orphan"
    )
    transitions: Mapped[list[PeriodTransition]] = relationship(
        back_populates="period", cascade="all, delete-orphan", order_by="PeriodTransition.id"
    )

    # Two council members publishing at once: the second gets a conflict.
    __mapper_args__ = {"version_id_col": lock_version}

    # --- configuration as objects -----------------------------------------------------
    @property
    def steps(self) -> tuple[sheetflow.StepSpec, ...]:
        return sheetflow.steps_from_config(self.steps_config)

    def reviewer_rule(self, step_key: str) -> ReviewerRule:
        return ReviewerRule(self.step_reviewers[step_key])

    def stage_for_step(self, step_key: str) -> ScoreStage | None:
        if step_key == sheetflow.SELF_STEP_KEY:
            return ScoreStage.SELF
        return STAGE_FOR_RULE[self.reviewer_rule(step_key)]

    @property
    def stages(self) -> tuple[ScoreStage, ...]:
        """The score columns this period uses, in step order."""
        found = (self.stage_for_step(step.key) for step in self.steps)
        return tuple(stage for stage in found if stage is not None)

    @property
    def final_stage(self) -> ScoreStage:
        """The column that ranks and classifies (the verified score by default)."""
        return self.stages[-1]

    def bands_for(self, total_max: Decimal) -> scoring.Bands:
        """The classification bands, for this period's table of ``total_max`` points."""
        return bands_from_config(self.bands_config, total_max)

    @property
    def is_published(self) -> bool:
        return self.state == PeriodState.PUBLISHED

    @property
    def state_label(self) -> str:
        return PERIOD_STATE_LABELS[PeriodState(self.state)]

    def deadline_for(self, step_key: str) -> datetime | None:
        for row in self.deadlines:
            if row.step_key == step_key:
                return row.due_at
        return None

    def machine(self, guards: Mapping[str, Guard] | None = None) -> Machine:
        """The sheet machine for this period's steps (guards: see operations)."""
        if guards is None:
            cached = getattr(self, "_machine", None)
            if cached is not None:
                return cached
        built = sheetflow.build_sheet_machine(
            self.steps,
            is_unit_staff=_is_unit_staff,
            is_unit_head=_is_unit_head,
            is_reviewer_for_step=_is_reviewer_for_step,
            guards=guards,
        )
        if guards is None:
            self._machine = built
        return built

    # --- permissions ------------------------------------------------------------------
    def can_see_all_results(self, user: User) -> bool:
        """Every unit's results: the office, the council and admins at any time (they
        produce them); the drafters once they are published."""
        if user.can_verify_scores() or user.can_decide_scores() or user.can_administer():
            return True
        return self.is_published and user.can_draft()

    def can_see_results(self, user: User) -> bool:
        """The results page: whoever sees every unit's, and once published each
        participating unit's people (who see their own unit only)."""
        return self.can_see_all_results(user) or (
            self.is_published and self.participant_unit_id(user) is not None
        )

    def participant_unit_id(self, user: User) -> int | None:
        """The user's unit, when it has a sheet in this period and the user works for it."""
        unit_id = user.unit_id
        if unit_id is None or not user.can_work_for_unit(unit_id):
            return None
        found = db.session.scalar(
            select(ScoreSheet.id).where(
                ScoreSheet.period_id == self.id, ScoreSheet.unit_id == unit_id
            )
        )
        return unit_id if found is not None else None

    def can_see_result_of(self, user: User, sheet: ScoreSheet) -> bool:
        """One unit's total, rank and classification on the results page."""
        return self.can_see_all_results(user) or (self.is_published and sheet.is_unit_member(user))

    def can_export_results(self, user: User) -> bool:
        """The results documents (.xlsx, PDF) list every unit of a Cụm/Khối."""
        return self.can_see_all_results(user)

    def can_apply(self, user: User, action: str) -> bool:
        return PERIOD_MACHINE.can_apply(self, action, user)

    def can_decide_publication(self, user: User) -> bool:
        """The council publishes the results and withdraws them (PERIOD_MACHINE's actor)."""
        return _decides_scores(self, user)

    def can_edit_bands(self, user: User) -> bool:
        """The office sets the classification bands until the results are published."""
        return (user.can_verify_scores() or user.can_administer()) and not self.is_published

    def can_view_group(self, user: User, group: Group) -> bool:
        """The Cụm/Khối side-by-side page: its leader and deputy, the office, the council."""
        reviewers = [unit for unit in (group.leader, group.deputy) if unit is not None]
        leads = user.has_role(Role.UNIT_HEAD) and any(u.id == user.unit_id for u in reviewers)
        return leads or self.can_see_all_results(user)

    def can_see_queue(self, user: User) -> bool:
        return user.can_verify_scores() or user.can_administer()

    def can_extend_deadlines(self, user: User) -> bool:
        return user.can_verify_scores()

    def can_disqualify(self, user: User) -> bool:
        """Published results are final: withdraw the publication to change them."""
        return (user.can_verify_scores() or user.can_decide_scores()) and not self.is_published


class PeriodDeadline(db.Model):
    """The deadline of one step of a period, for every sheet unless extended."""

    __tablename__ = "scoring_period_deadlines"
    __table_args__ = (UniqueConstraint("period_id", "step_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("scoring_periods.id", ondelete="CASCADE"), index=True
    )
    step_key: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())

    period: Mapped[ScoringPeriod] = relationship(back_populates="deadlines")


# --- sheets -----------------------------------------------------------------------------------


class ScoreSheet(db.Model):
    """One unit's sheet in one period."""

    __tablename__ = "score_sheets"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id"),
        # The reminder scan's way to the sheets to flag. They hold every column it
        # filters on, so no planner prefers ix_score_sheets_due_at, which would read
        # every sheet due later.
        Index("ix_score_sheets_flag_evidence", "evidence_missing", "due_at", "state"),
        Index("ix_score_sheets_flag_gap", "score_gap", "due_at", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("scoring_periods.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # The unit's Cụm/Khối in the period's year, fixed when the period opened.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    # A state of the period's machine; states are data, so a plain string.
    state: Mapped[str] = mapped_column(String(40), default=sheetflow.NOT_STARTED, index=True)
    # The current step's deadline (extension included); None when nothing is pending.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Derived from the scores and evidence (see `review_flags_update`), for the scan:
    # a self-score with no evidence for its criterion nor for the whole sheet, and
    # the largest |self − review| over the criteria scored at both (None: none are).
    evidence_missing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    score_gap: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    disqualifier: Mapped[str | None] = mapped_column(String(300))
    disqualification_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # Two reviewers pressing a button at once: the second gets a conflict.
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    period: Mapped[ScoringPeriod] = relationship(back_populates="sheets")
    unit: Mapped[Unit] = relationship()
    group: Mapped[Group | None] = relationship()
    scores: Mapped[list[Score]] = relationship(back_populates="sheet", cascade="all, delete-orphan")
    adjustments: Mapped[list[ScoreAdjustment]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="ScoreAdjustment.id"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="Evidence.id"
    )
    transitions: Mapped[list[SheetTransition]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="SheetTransition.id"
    )
    extensions: Mapped[list[SheetDeadlineExtension]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="SheetDeadlineExtension.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    # --- derived ----------------------------------------------------------------------
    @property
    def disqualified(self) -> bool:
        return self.disqualifier is not None

    @property
    def state_label(self) -> str:
        return self.period.machine().state_label(self.state)

    @property
    def current_step(self) -> sheetflow.StepSpec | None:
        """The step the sheet waits for, or None once the last step is done."""
        return pending_step(self.period.steps, self.state)

    @property
    def editable_stage(self) -> ScoreStage | None:
        """The score column that may be edited now (by whoever holds the sheet)."""
        step = self.current_step
        return None if step is None else self.period.stage_for_step(step.key)

    @property
    def reached_stages(self) -> tuple[ScoreStage, ...]:
        """The columns whose step is pending or done: the ones the sheet fills in, with
        the values carried from earlier columns. A column not reached yet stays blank."""
        return self._stages_up_to(pending=True)

    @property
    def completed_stages(self) -> tuple[ScoreStage, ...]:
        """The columns whose step is done: the ones results show (with any column that
        already stored values of its own)."""
        return self._stages_up_to(pending=False)

    def _stages_up_to(self, *, pending: bool) -> tuple[ScoreStage, ...]:
        steps = self.period.steps
        step = self.current_step
        end = len(steps) if step is None else steps.index(step) + (1 if pending else 0)
        found = (self.period.stage_for_step(item.key) for item in steps[:end])
        return tuple(stage for stage in found if stage is not None)

    def deadline_for(self, step_key: str) -> datetime | None:
        """A step's deadline for this sheet: the latest extension, else the period's."""
        extended = [row for row in self.extensions if row.step_key == step_key]
        if extended:
            return extended[-1].due_at
        return self.period.deadline_for(step_key)

    def is_overdue(self, moment: datetime | None = None) -> bool:
        return self.due_at is not None and self.due_at < (moment or now())

    @property
    def cluster_reviewer_unit(self) -> Unit | None:
        return group_reviewer_unit(self.group, self.unit_id)

    # --- permissions ------------------------------------------------------------------
    def is_unit_member(self, user: User) -> bool:
        return user.can_work_for_unit(self.unit_id)

    def is_group_reviewer(self, user: User) -> bool:
        """The user reviews this sheet at a Cụm/Khối step (never the unit itself)."""
        reviewer = self.cluster_reviewer_unit
        if reviewer is None:
            return user.can_verify_scores()
        return (
            reviewer.id == user.unit_id
            and reviewer.id != self.unit_id
            and user.has_role(Role.UNIT_HEAD)
        )

    def can_view(self, user: User) -> bool:
        """The unit, its Cụm/Khối reviewer, the office, the council and admins; once the
        results are published, the drafters too (the per-criterion breakdown)."""
        return (
            self.is_unit_member(user)
            or self.is_group_reviewer(user)
            or self.period.can_see_all_results(user)
        )

    def can_edit_stage(self, user: User, stage: ScoreStage) -> bool:
        """Scores of ``stage`` may be changed now by ``user``."""
        step = self.current_step
        if step is None or self.period.stage_for_step(step.key) != stage:
            return False
        if stage == ScoreStage.SELF:
            return self.is_unit_member(user)
        return _is_reviewer_for_step(self, user, step.key)

    def can_edit_scores(self, user: User) -> bool:
        stage = self.editable_stage
        return stage is not None and self.can_edit_stage(user, stage)

    def can_upload_evidence(self, user: User) -> bool:
        return self.can_edit_stage(user, ScoreStage.SELF)

    def can_adjust(self, user: User) -> bool:
        """Add a bonus or deduction item, or change one's points, in the open column."""
        return self.can_edit_scores(user)

    def can_apply(self, user: User, action: str) -> bool:
        return self.period.machine().can_apply(self, action, user)

    def can_extend_deadline(self, user: User) -> bool:
        return self.current_step is not None and self.period.can_extend_deadlines(user)

    def can_disqualify(self, user: User) -> bool:
        return self.period.can_disqualify(user)

    def can_see_result(self, user: User) -> bool:
        return self.period.can_see_result_of(user, self)

    def can_view_history(self, user: User) -> bool:
        return self.can_view(user)


def pending_step(steps: Sequence[sheetflow.StepSpec], state: str) -> sheetflow.StepSpec | None:
    """The step a sheet in ``state`` waits for (self-scoring before submission)."""
    if state in (sheetflow.NOT_STARTED, sheetflow.SELF_SCORING):
        return steps[0]
    for index, step in enumerate(steps[:-1]):
        if step.done_state == state:
            return steps[index + 1]
    return None


def group_reviewer_unit(group: Group | None, unit_id: int) -> Unit | None:
    """The unit whose head reviews ``unit_id``'s sheet: the leader, or for the
    leader's own sheet the deputy (None: the office steps in)."""
    if group is None:
        return None
    leader = group.leader
    if leader is not None and leader.id != unit_id:
        return leader
    deputy = group.deputy
    if deputy is not None and deputy.id != unit_id:
        return deputy
    return None


# Predicates given to the engine; (sheet, actor) as sheetflow expects.
def _is_unit_staff(sheet: ScoreSheet, actor: User | None) -> bool:
    return actor is not None and actor.can_work_for_unit(sheet.unit_id)


def _is_unit_head(sheet: ScoreSheet, actor: User | None) -> bool:
    return actor is not None and actor.can_sign_for_unit(sheet.unit_id)


def _is_reviewer_for_step(sheet: ScoreSheet, actor: User | None, step_key: str) -> bool:
    if actor is None:
        return False
    rule = sheet.period.reviewer_rule(step_key)
    if rule == ReviewerRule.GROUP:
        return sheet.is_group_reviewer(actor)
    if rule == ReviewerRule.OFFICE:
        return actor.can_verify_scores()
    return actor.can_decide_scores()


# --- who holds a sheet (for notifications and reminders) --------------------------------------


def _users_with_role(role: Role) -> list[User]:
    query = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, User.active)
        .order_by(User.id)
    )
    return list(db.session.scalars(query).unique())


def _unit_users(unit_id: int, roles: Sequence[Role]) -> list[User]:
    query = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.unit_id == unit_id, UserRole.role.in_(roles), User.active)
        .order_by(User.id)
    )
    return list(db.session.scalars(query).unique())


def reviewers_for_step(sheet: ScoreSheet, step_key: str) -> list[User]:
    rule = sheet.period.reviewer_rule(step_key)
    if rule == ReviewerRule.GROUP:
        unit = sheet.cluster_reviewer_unit
        if unit is None:
            return _users_with_role(Role.OFFICE_VERIFIER)
        return _unit_users(unit.id, [Role.UNIT_HEAD])
    if rule == ReviewerRule.OFFICE:
        return _users_with_role(Role.OFFICE_VERIFIER)
    return _users_with_role(Role.COUNCIL_MEMBER)


def holders_of(sheet: ScoreSheet) -> list[User]:
    """Who must act on the sheet now (empty once the last step is done)."""
    step = sheet.current_step
    if step is None:
        return []
    if step.key == sheetflow.SELF_STEP_KEY:
        return _unit_users(sheet.unit_id, [Role.UNIT_HEAD, Role.UNIT_STAFF])
    return reviewers_for_step(sheet, step.key)


def supervisors_of(sheet: ScoreSheet) -> list[User]:
    """Whom to escalate to once the current step is overdue:
    the unit head and the Cụm leader for self-scoring, the office for a Cụm step,
    the council for the office's step, and the office for the council's."""
    step = sheet.current_step
    if step is None:
        return []
    if step.key == sheetflow.SELF_STEP_KEY:
        heads = _unit_users(sheet.unit_id, [Role.UNIT_HEAD])
        reviewer = sheet.cluster_reviewer_unit
        leaders = _unit_users(reviewer.id, [Role.UNIT_HEAD]) if reviewer else []
        return list({user.id: user for user in heads + leaders}.values())
    rule = sheet.period.reviewer_rule(step.key)
    if rule == ReviewerRule.OFFICE:
        return _users_with_role(Role.COUNCIL_MEMBER)
    return _users_with_role(Role.OFFICE_VERIFIER)


# --- scores, lines, evidence ------------------------------------------------------------------


class Score(db.Model):
    """One criterion's points in one column of one sheet."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("sheet_id", "lineage", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    # The criterion clause's lineage, or the key of one of the sheet's ScoreAdjustments.
    lineage: Mapped[str] = mapped_column(String(32))
    stage: Mapped[ScoreStage] = mapped_column(enum_type(ScoreStage))
    # None: this column has no value of its own and holds the previous column's.
    value: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    note: Mapped[str] = mapped_column(Text, default="")  # why (required for a review's change)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class ScoreChange(db.Model):
    """Append-only history of every score change (who, when, old → new)."""

    __tablename__ = "score_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    lineage: Mapped[str] = mapped_column(String(32))
    stage: Mapped[ScoreStage] = mapped_column(enum_type(ScoreStage))
    old_value: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    new_value: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    actor: Mapped[User | None] = relationship()


def new_adjustment_key() -> str:
    # Scores are keyed by it beside criterion lineages (uuid hex): the prefix keeps
    # the two apart at a glance.
    return "adj-" + secrets.token_hex(14)


class ScoreAdjustment(db.Model):
    """A bonus or deduction item of a sheet: "Bằng khen của UBND tỉnh", "Chậm gửi báo cáo".

    Only what the item is lives here. Its points in each column are ``Score`` rows
    keyed by ``key`` (so they carry over to later columns, keep their history, need a
    reason when a reviewer changes them, and lock like any score).
    """

    __tablename__ = "score_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(32), unique=True, default=new_adjustment_key)
    kind: Mapped[AdjustmentKind] = mapped_column(enum_type(AdjustmentKind))
    # The table's bonus or deduction row it is filed under (None: the table has none).
    lineage: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    stage: Mapped[ScoreStage] = mapped_column(enum_type(ScoreStage))  # the column it began in
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="adjustments")
    created_by: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return ADJUSTMENT_KIND_LABELS[self.kind]

    @property
    def scoring_kind(self) -> scoring.Kind:
        return scoring.Kind(self.kind.value)

    def can_remove(self, user: User) -> bool:
        """Who proposed it may withdraw it while its column is open; a later column
        sets its points to 0 with a reason instead, so the proposal stays on record."""
        return self.sheet.editable_stage == self.stage and self.sheet.can_edit_stage(
            user, self.stage
        )


class Evidence(db.Model):
    """An evidence file (minh chứng) for a criterion of a sheet."""

    __tablename__ = "score_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    lineage: Mapped[str | None] = mapped_column(String(32))  # None: the whole sheet
    filename: Mapped[str] = mapped_column(String(255))  # display name, sanitised
    stored_name: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User | None] = relationship()

    def can_download(self, user: User) -> bool:
        return self.sheet.can_view(user)

    def can_delete(self, user: User) -> bool:
        return self.sheet.can_upload_evidence(user)


# --- the audit trail --------------------------------------------------------------------------


class SheetTransition(db.Model):
    """Append-only: every state change of a sheet (who, when, from, to, note)."""

    __tablename__ = "score_sheet_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()

    @property
    def is_return(self) -> bool:
        return sheetflow.is_return_action(self.action)


class PeriodTransition(db.Model):
    """Append-only: every state change of a period (publication and its withdrawal)."""

    __tablename__ = "scoring_period_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("scoring_periods.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)

    period: Mapped[ScoringPeriod] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()


class SheetDeadlineExtension(db.Model):
    """The office extended one step's deadline for one sheet."""

    __tablename__ = "score_sheet_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True
    )
    step_key: Mapped[str] = mapped_column(String(40))
    previous_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="extensions")
    actor: Mapped[User | None] = relationship()


def review_flags_update(sheet_ids: Collection[int] | None = None) -> Update:
    """Recompute `evidence_missing` and `score_gap` of these sheets (None: all) from
    their scores and evidence; the same rules as the reminder scan's flags."""
    sheets = ScoreSheet.__table__
    own = Score.__table__.alias("own")
    review = Score.__table__.alias("review")
    evidence = Evidence.__table__
    has_evidence = (
        select(evidence.c.id)
        .where(
            evidence.c.sheet_id == own.c.sheet_id,
            or_(evidence.c.lineage.is_(None), evidence.c.lineage == own.c.lineage),
        )
        .exists()
    )
    own_scores = and_(
        own.c.sheet_id == sheets.c.id,
        own.c.stage == ScoreStage.SELF.value,
        own.c.value.is_not(None),
    )
    missing = select(own.c.id).where(own_scores, ~has_evidence).exists()
    gap = (
        select(func.max(func.abs(own.c.value - review.c.value)))
        .select_from(
            own.join(
                review,
                and_(review.c.sheet_id == own.c.sheet_id, review.c.lineage == own.c.lineage),
            )
        )
        .where(
            own_scores,
            review.c.stage.in_([ScoreStage.CLUSTER.value, ScoreStage.VERIFIED.value]),
            review.c.value.is_not(None),
        )
        .scalar_subquery()
    )
    stmt = update(sheets).values(evidence_missing=missing, score_gap=gap)
    if sheet_ids is not None:
        stmt = stmt.where(sheets.c.id.in_(sorted(sheet_ids)))
    return stmt


@event.listens_for(Session, "after_flush")
def _refresh_review_flags(session: Session, flush_context: Any) -> None:
    # `new`, `dirty` and `deleted` still list what this flush wrote.
    touched = {
        row.sheet_id
        for row in (*session.new, *session.dirty, *session.deleted)
        if isinstance(row, Score | Evidence) and row.sheet_id is not None
    }
    if touched:
        session.connection().execute(review_flags_update(touched))


@event.listens_for(SheetTransition, "before_update")
@event.listens_for(SheetTransition, "before_delete")
@event.listens_for(PeriodTransition, "before_update")
@event.listens_for(PeriodTransition, "before_delete")
@event.listens_for(ScoreChange, "before_update")
@event.listens_for(ScoreChange, "before_delete")
def _append_only(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError("sheet history is append-only")


# --- classification bands as data -------------------------------------------------------------


def bands_to_config(bands: scoring.Bands) -> dict[str, Any]:
    return {
        "bands": [
            {
                "key": band.key,
                "label": band.label,
                "min_points": str(band.min_points),
                "first_in_group_only": band.first_in_group_only,
                "no_disqualifier": band.no_disqualifier,
            }
            for band in bands.bands
        ]
    }


def bands_from_config(config: Mapping[str, Any], total_max: Decimal) -> scoring.Bands:
    """Stored bands; the defaults for ``total_max`` when none are stored.

    Bands stored before they held points gave a fraction of the table's maximum and the
    key of the highest band a disqualified unit may get: the fraction becomes points
    and the bands above that key become "no disqualifier" bands.
    """
    if not config or not config.get("bands"):
        return scoring.default_bands(total_max)
    items = list(config["bands"])
    cap = config.get("disqualified_cap")
    keys = [str(item["key"]) for item in items]
    cap_index = keys.index(cap) if cap in keys else 0
    bands = []
    for index, item in enumerate(items):
        if "min_points" in item:
            minimum = Decimal(str(item["min_points"]))
            clean = bool(item.get("no_disqualifier", False))
        else:
            minimum = Decimal(str(item["min_fraction"])) * total_max
            clean = cap is not None and index < cap_index
        bands.append(
            scoring.Band(
                str(item["key"]),
                str(item["label"]),
                minimum,
                bool(item.get("first_in_group_only", False)),
                clean,
            )
        )
    return scoring.Bands(tuple(bands))
