"""JSON twins of the scoring pages; they call the same operations as the HTML routes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from flask import Blueprint, request, send_file
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.apispec import (
    DATETIME,
    ID,
    NULLABLE_STRING,
    api_put_patch,
    api_route,
    current_api_user,
    list_of,
    whole,
)
from accounts.clock import end_of_local_day, parse_date
from accounts.errors import Invalid, NotFound, ensure
from accounts.models import Group, Scope, Unit, active_units
from accounts.operations import get_or_404
from drafts.models import Draft
from extensions import db
from tasks import background
from tasks.background import JOB_ACCEPTED
from tasks.models import JobKind
from workflow import exports, operations, queries, scoring
from workflow.models import (
    PERIOD_MACHINE,
    AdjustmentKind,
    Evidence,
    ReviewerRule,
    ScoreAdjustment,
    ScoreSheet,
    ScoreStage,
    ScoringPeriod,
    bands_from_config,
    bands_to_config,
    can_open_period,
)
from workflow.scoring import format_points

bp = Blueprint("workflow_api", __name__, url_prefix="/api/v1")
TAGS = ["scoring"]

POINTS = {"type": "string", "nullable": True, "description": "Điểm, dấu phẩy thập phân: “2,5”"}
STEP_IN = {
    "oneOf": [
        {"type": "string", "enum": ["self", "cluster", "office", "council"]},
        {
            "type": "object",
            "required": ["key", "title", "action", "action_label", "done_state", "done_label"],
            "properties": {
                name: {"type": "string", "minLength": 1}
                for name in (
                    "key",
                    "title",
                    "action",
                    "action_label",
                    "done_state",
                    "done_label",
                    "who",
                )
            },
            "additionalProperties": False,
        },
    ]
}
BAND_IN = {
    "type": "object",
    "required": ["label"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "minLength": 1, "maxLength": 40},
        "label": {"type": "string", "minLength": 1, "maxLength": 200},
        "min_points": {"type": "string", "description": "Điểm tối thiểu: “92,5”"},
        "min_fraction": {
            "type": "string",
            "description": "Cách cũ: phần của tổng điểm (“0,9”), khi không có min_points",
        },
        "first_in_group_only": {
            "type": "boolean",
            "description": "Chỉ đơn vị đứng đầu Cụm, Khối",
        },
        "no_disqualifier": {
            "type": "boolean",
            "description": "Không cho đơn vị vi phạm điều kiện loại trừ",
        },
    },
}
BANDS_IN = {
    "type": "object",
    "required": ["bands"],
    "additionalProperties": False,
    "properties": {"bands": {"type": "array", "items": BAND_IN}},
}
BANDS = {
    "type": "object",
    "required": ["period_id", "total_max", "bands"],
    "properties": {
        "period_id": ID,
        "total_max": {"type": "string"},
        "editable": {"type": "boolean"},
        "bands": {"type": "array", "items": {"type": "object"}},
    },
}
PERIOD_IN = {
    "type": "object",
    "required": ["draft_id", "name", "deadlines"],
    "additionalProperties": False,
    "properties": {
        "draft_id": ID,
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "unit_ids": {
            "type": "array",
            "items": ID,
            "uniqueItems": True,
            "description": "Bỏ trống: mọi đơn vị đang hoạt động",
        },
        "steps": {"type": "array", "items": STEP_IN, "minItems": 2},
        "reviewers": {
            "type": "object",
            "additionalProperties": {
                "type": "string",
                "enum": [rule.value for rule in ReviewerRule],
            },
        },
        "deadlines": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Mã bước → ngày (dd/mm/yyyy hoặc yyyy-mm-dd) hoặc ISO 8601",
        },
        "bands": {"type": "array", "items": BAND_IN, "minItems": 1},
        "disqualified_cap": {
            "type": "string",
            "description": "Cách cũ, cùng min_fraction: mã mức cao nhất cho đơn vị vi phạm",
        },
        "disqualifiers": {"type": "array", "items": {"type": "string"}},
        "bonus_cap": POINTS,
    },
}
PERIOD = {
    "type": "object",
    "required": ["id", "name", "year", "draft_id", "steps", "deadlines"],
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "year": {"type": "integer"},
        "draft_id": ID,
        "version_id": ID,
        "steps": {"type": "array", "items": {"type": "object"}},
        "deadlines": {"type": "object", "additionalProperties": DATETIME},
        "stages": {"type": "array", "items": {"type": "string"}},
        "disqualifiers": {"type": "array", "items": {"type": "string"}},
        "bonus_cap": POINTS,
        "bands": {"type": "object"},
        "state": {"type": "string", "enum": ["scoring", "published"]},
        "state_label": {"type": "string"},
        "published_at": {**DATETIME, "nullable": True},
    },
}
SHEET_SUMMARY = {
    "type": "object",
    "required": ["id", "period_id", "unit_id", "state", "state_label"],
    "properties": {
        "id": ID,
        "period_id": ID,
        "unit_id": ID,
        "unit": {"type": "string"},
        "group_id": {"type": "integer", "nullable": True},
        "state": {"type": "string"},
        "state_label": {"type": "string"},
        "returned": {"type": "boolean"},
        "current_step": NULLABLE_STRING,
        "due_at": {**DATETIME, "nullable": True},
        "overdue": {"type": "boolean"},
        "disqualifier": NULLABLE_STRING,
    },
}
TOTALS = {
    "type": "object",
    "properties": {
        "base": {"type": "string"},
        "bonus": {"type": "string"},
        "deductions": {"type": "string"},
        "final": {"type": "string"},
        "groups": {"type": "object", "additionalProperties": {"type": "string"}},
        "missing": {"type": "array", "items": {"type": "string"}},
    },
}
SCORE_CELL = {
    "type": "object",
    "properties": {
        "value": POINTS,
        "note": {"type": "string"},
        "lock_version": {"type": "integer"},
    },
}
SHEET = {
    "type": "object",
    "required": ["sheet", "criteria", "totals"],
    "properties": {
        "sheet": SHEET_SUMMARY,
        "editable_stage": NULLABLE_STRING,
        "actions": {"type": "array", "items": {"type": "object"}},
        "criteria": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "lineage": {"type": "string"},
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                    "kind": {"type": "string"},
                    "max_points": POINTS,
                    "guidance": {"type": "string"},
                    "depth": {"type": "integer"},
                    "leaf": {"type": "boolean"},
                    "scores": {"type": "object", "additionalProperties": SCORE_CELL},
                },
            },
        },
        "adjustments": {"type": "array", "items": {"type": "object"}},
        "evidence": {"type": "array", "items": {"type": "object"}},
        "totals": {"type": "object", "additionalProperties": TOTALS},
    },
}
SCORES_IN = {
    "type": "object",
    "required": ["stage", "scores"],
    "additionalProperties": False,
    "properties": {
        "stage": {"type": "string", "enum": [stage.value for stage in ScoreStage]},
        "scores": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["lineage", "value", "lock_version"],
                "additionalProperties": False,
                "properties": {
                    "lineage": {"type": "string"},
                    "value": POINTS,
                    "note": {"type": "string"},
                    "lock_version": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "0 khi tiêu chí chưa có điểm ở cột này",
                    },
                },
            },
        },
    },
}
# PUT sends each score whole: its value, its note ("" clears it) and its lock version.
SCORES_PUT = {
    **SCORES_IN,
    "properties": {
        **SCORES_IN["properties"],
        "scores": {
            "type": "array",
            "items": whole(SCORES_IN["properties"]["scores"]["items"]),
        },
    },
}
ACTION_IN = {
    "type": "object",
    "required": ["action"],
    "additionalProperties": False,
    "properties": {
        "action": {"type": "string", "minLength": 1},
        "note": {"type": "string", "maxLength": 4000},
    },
}
ADJUSTMENT_IN = {
    "type": "object",
    "required": ["kind", "points", "reason"],
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in AdjustmentKind]},
        "points": {"type": "string", "minLength": 1},
        "reason": {"type": "string", "maxLength": 2000},
        "row": {
            "type": "string",
            "description": "Dòng điểm thưởng/điểm trừ của bảng tiêu chí (lineage); bỏ trống "
            "khi bảng chỉ có một dòng loại này",
        },
    },
}
ADJUSTMENT = {
    "type": "object",
    "required": ["id", "key", "kind", "reason", "stage"],
    "properties": {
        "id": ID,
        "key": {"type": "string"},
        "kind": {"type": "string"},
        "row": NULLABLE_STRING,
        "reason": {"type": "string"},
        "stage": {"type": "string"},
        "scores": {"type": "object", "additionalProperties": {"type": "object"}},
        "held": {"type": "object", "additionalProperties": POINTS},
    },
}
DEADLINE_IN = {
    "type": "object",
    "required": ["due", "reason"],
    "additionalProperties": False,
    "properties": {
        "due": {"type": "string", "description": "dd/mm/yyyy, yyyy-mm-dd hoặc ISO 8601"},
        "reason": {"type": "string", "minLength": 1},
    },
}
DISQUALIFY_IN = {
    "type": "object",
    "required": ["condition"],
    "additionalProperties": False,
    "properties": {"condition": {"type": "string"}, "note": {"type": "string"}},
}
NOTE_IN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"note": {"type": "string"}},
}
EVIDENCE = {
    "type": "object",
    "required": ["id", "filename", "size"],
    "properties": {
        "id": ID,
        "lineage": NULLABLE_STRING,
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "size": {"type": "integer"},
        "uploaded_at": DATETIME,
    },
}
HISTORY = {
    "type": "object",
    "properties": {
        "transitions": {"type": "array", "items": {"type": "object"}},
        "score_changes": {"type": "array", "items": {"type": "object"}},
        "extensions": {"type": "array", "items": {"type": "object"}},
    },
}
RESULTS = {
    "type": "object",
    "required": ["period_id", "total_max", "rows"],
    "properties": {
        "period_id": ID,
        "total_max": {"type": "string"},
        "published": {"type": "boolean"},
        "published_at": {**DATETIME, "nullable": True},
        "every_unit": {"type": "boolean"},
        "rows": {"type": "array", "items": {"type": "object"}},
    },
}
CONFIRMED = {
    "type": "object",
    "properties": {"filled": {"type": "integer"}, "sheet": SHEET_SUMMARY},
}


# --- serialisation ----------------------------------------------------------------------------


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format_points(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def period_json(period: ScoringPeriod) -> dict[str, Any]:
    return {
        "id": period.id,
        "name": period.name,
        "year": period.year.year,
        "draft_id": period.criteria_draft_id,
        "version_id": period.criteria_version_id,
        "steps": [
            {
                "key": s.key,
                "title": s.title,
                "action": s.action,
                "done_state": s.done_state,
                "reviewer": period.step_reviewers.get(s.key),
            }
            for s in period.steps
        ],
        "deadlines": {row.step_key: row.due_at.isoformat() for row in period.deadlines},
        "stages": [stage.value for stage in period.stages],
        "disqualifiers": list(period.disqualifiers),
        "bonus_cap": _text(period.bonus_cap),
        "bands": period.bands_config,
        "state": period.state,
        "state_label": period.state_label,
        "published_at": _iso(period.published_at),
    }


def sheet_summary(sheet: ScoreSheet, returned: bool = False) -> dict[str, Any]:
    step = sheet.current_step
    return {
        "id": sheet.id,
        "period_id": sheet.period_id,
        "unit_id": sheet.unit_id,
        "unit": sheet.unit.name,
        "group_id": sheet.group_id,
        "state": sheet.state,
        "state_label": sheet.state_label,
        "returned": returned,
        "current_step": step.key if step else None,
        "due_at": _iso(sheet.due_at),
        "overdue": sheet.is_overdue(),
        "disqualifier": sheet.disqualifier,
    }


def totals_json(totals: scoring.Totals, table: queries.CriteriaTable) -> dict[str, Any]:
    return {
        "base": format_points(totals.base),
        "bonus": format_points(totals.bonus),
        "deductions": format_points(totals.deductions),
        "final": format_points(totals.final),
        "groups": {key: format_points(value) for key, value in totals.groups.items()},
        "missing": table.codes(totals.missing),
    }


def evidence_json(item: Evidence) -> dict[str, Any]:
    return {
        "id": item.id,
        "lineage": item.lineage,
        "filename": item.filename,
        "content_type": item.content_type,
        "size": item.size,
        "uploaded_at": item.uploaded_at.isoformat(),
    }


def _cell(score: Any) -> dict[str, Any]:
    return {
        "value": _text(score.value),
        "note": score.note,
        "lock_version": score.lock_version,
        "by": score.updated_by.full_name if score.updated_by else None,
    }


def sheet_json(sheet: ScoreSheet, user: Any) -> dict[str, Any]:
    """The sheet: per criterion and item, each column's own cell (value, note, lock
    version, who) and what each column holds (``held``: carried values included)."""
    period = sheet.period
    table = queries.load_criteria(period.criteria_version_id)
    data = queries.load_sheet_data([sheet.id])[sheet.id]
    columns = queries.sheet_columns(table, data, period, sheet.reached_stages)
    last = queries.last_transitions([sheet.id]).get(sheet.id)

    def cells(key: str) -> tuple[dict[str, Any], dict[str, str | None]]:
        own = {
            stage.value: _cell(data.scores[(stage, key)])
            for stage in period.stages
            if (stage, key) in data.scores
        }
        held = {
            stage.value: _text(column.value(key)) if column.shown else None
            for stage, column in columns.items()
        }
        return own, held

    criteria = []
    for row in table.rows:
        own, held = cells(row.key)
        criteria.append(
            {
                "lineage": row.key,
                "code": row.code,
                "number": row.number,
                "title": row.title,
                "kind": row.kind.value,
                "max_points": _text(row.max_points),
                "guidance": row.guidance,
                "depth": row.depth,
                "leaf": row.is_leaf,
                "scored": row.is_leaf and not row.takes_adjustments,
                "scores": own,
                "held": held,
            }
        )
    adjustments = []
    for item in data.adjustments:
        own, held = cells(item.key)
        adjustments.append(
            {
                "id": item.id,
                "key": item.key,
                "kind": item.kind.value,
                "row": item.lineage,
                "reason": item.reason,
                "stage": item.stage.value,
                "scores": own,
                "held": held,
            }
        )
    return {
        "sheet": sheet_summary(sheet, queries.is_returned(last)),
        "editable_stage": sheet.editable_stage.value if sheet.editable_stage else None,
        "actions": [
            {"action": r.action, "label": r.label, "requires_note": r.requires_note}
            for r in period.machine().actions_for(sheet, user)
        ],
        "criteria": criteria,
        "adjustments": adjustments,
        "evidence": [evidence_json(item) for item in sheet.evidence],
        "totals": {
            stage.value: totals_json(column.totals, table)
            for stage, column in columns.items()
            if column.shown
        },
    }


# --- loading ----------------------------------------------------------------------------------


def _period(period_id: int) -> ScoringPeriod:
    return get_or_404(ScoringPeriod, period_id, _("Không tìm thấy kỳ chấm điểm."))


def _sheet(sheet_id: int) -> ScoreSheet:
    sheet = queries.load_sheet(sheet_id)
    if sheet is None:
        raise NotFound(_("Không tìm thấy phiếu chấm điểm."))
    ensure(sheet.can_view(current_api_user()))
    return sheet


def _moment(text: str, what: str) -> datetime:
    """A date means the end of that local day; a full ISO time must carry its zone."""
    try:
        return end_of_local_day(parse_date(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            _("%(what)s không phải là ngày hợp lệ: “%(text)s”.", what=what, text=text)
        ) from None
    if moment.tzinfo is None:
        raise Invalid(_("%(what)s phải có múi giờ: “%(text)s”.", what=what, text=text))
    return moment


def _points(text: str | None, what: str) -> Decimal | None:
    try:
        return scoring.parse_points(text)
    except scoring.ScoreError as exc:
        raise Invalid(f"{what}: {exc.message}") from exc


def _bands(items: list[dict[str, Any]], total_max: Decimal, cap: str | None = None):  # type: ignore[no-untyped-def]
    """Bands from the API: points ("min_points"), or as before a fraction of the table's
    maximum ("min_fraction") with the key of the highest band a disqualified unit gets."""
    config = []
    for number, item in enumerate(items, start=1):
        band: dict[str, Any] = {
            "key": item.get("key") or f"band-{number}",
            "label": item["label"].strip(),
            "first_in_group_only": bool(item.get("first_in_group_only", False)),
        }
        if "min_points" in item:
            band["min_points"] = _points(item["min_points"], "Điểm tối thiểu") or scoring.ZERO
            band["no_disqualifier"] = bool(item.get("no_disqualifier", False))
        elif "min_fraction" in item:
            band["min_fraction"] = _points(item["min_fraction"], "Ngưỡng") or scoring.ZERO
        else:
            raise Invalid(
                _("Mức “%(label)s” cần điểm tối thiểu (min_points).", label=band["label"])
            )
        config.append(band)
    try:
        return bands_from_config({"bands": config, "disqualified_cap": cap}, total_max)
    except scoring.ScoreError as exc:
        raise Invalid(exc.message) from exc


# --- periods ----------------------------------------------------------------------------------


@api_route(
    bp,
    "/scoring/periods",
    methods=["GET"],
    scope=Scope.READ,
    summary="Danh sách kỳ chấm điểm",
    tags=TAGS,
    response=list_of(PERIOD),
)
def list_periods():  # type: ignore[no-untyped-def]
    return {"items": [period_json(p) for p in queries.periods()]}


@api_route(
    bp,
    "/scoring/periods",
    methods=["POST"],
    scope=Scope.SCORE,
    summary="Mở kỳ chấm điểm",
    tags=TAGS,
    body=PERIOD_IN,
    response=PERIOD,
    status=201,
)
def open_period(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    ensure(
        can_open_period(user),
        _("Chỉ Thường trực Hội đồng hoặc quản trị viên được mở kỳ chấm điểm."),
    )
    draft = get_or_404(Draft, body["draft_id"], _("Không tìm thấy bảng tiêu chí."))
    if "unit_ids" in body:
        units = list(db.session.scalars(select(Unit).where(Unit.id.in_(body["unit_ids"]))))
        if len(units) != len(body["unit_ids"]):
            raise NotFound(_("Có đơn vị không tồn tại."))
    else:
        units = active_units()
    deadlines = {
        key: _moment(value, _("Hạn của bước %(key)s", key=key))
        for key, value in body["deadlines"].items()
    }
    bands = None
    if "bands" in body and draft.adopted_version_id is not None:
        table = queries.load_criteria(draft.adopted_version_id)
        try:
            total_max = table.total_max
        except scoring.ScoreError as exc:
            raise Invalid(exc.message) from exc
        bands = _bands(body["bands"], total_max, body.get("disqualified_cap"))
    period = operations.open_period(
        draft,
        body["name"],
        units,
        body.get("steps"),
        deadlines,
        bands,
        body.get("disqualifiers"),
        _points(body.get("bonus_cap"), "Điểm thưởng tối đa"),
        user,
        year=body.get("year"),
        step_reviewers=body.get("reviewers"),
    )
    db.session.commit()
    return period_json(period), 201


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/sheets",
    methods=["GET"],
    scope=Scope.READ,
    summary="Các phiếu chấm điểm của kỳ (những phiếu người dùng được xem)",
    tags=TAGS,
    response=list_of(SHEET_SUMMARY),
    query={
        "step": {"type": "string", "description": "Chỉ các phiếu đang chờ bước này, ví dụ office"},
        "group_id": {"type": "integer", "minimum": 1},
    },
)
def list_sheets(period_id: int, query: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    user = current_api_user()
    query = query or {}
    sheets = [
        s
        for s in queries.period_sheets(period, group_id=query.get("group_id"))
        if s.can_view(user)
        and ("step" not in query or (s.current_step and s.current_step.key == query["step"]))
    ]
    last = queries.last_transitions([s.id for s in sheets])
    return {"items": [sheet_summary(s, queries.is_returned(last.get(s.id))) for s in sheets]}


GROUP_COMPARISON = {
    "type": "object",
    "required": ["group", "units", "criteria"],
    "properties": {
        "group": {"type": "string"},
        "units": {"type": "array", "items": SHEET_SUMMARY},
        "criteria": {"type": "array", "items": {"type": "object"}},
        "totals": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/groups/<int:group_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Bảng so sánh của Cụm, Khối: điểm tự chấm và điểm Cụm chấm của các đơn vị",
    tags=TAGS,
    response=GROUP_COMPARISON,
)
def group_comparison(period_id: int, group_id: int):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    group = get_or_404(Group, group_id, _("Không tìm thấy Cụm, Khối."))
    ensure(period.can_view_group(current_api_user(), group))
    table = queries.load_criteria(period.criteria_version_id)
    sheets = queries.period_sheets(period, group_id=group.id)
    data = queries.load_sheet_data([s.id for s in sheets])
    stages = [stage for stage in (ScoreStage.SELF, ScoreStage.CLUSTER) if stage in period.stages]
    columns = {
        s.id: queries.sheet_columns(table, data[s.id], period, s.reached_stages) for s in sheets
    }
    criteria = []
    for row in table.rows:
        adds_up = not row.is_leaf or row.takes_adjustments
        values = {}
        for s in sheets:
            values[str(s.id)] = {
                stage.value: _text(
                    (
                        columns[s.id][stage].totals.groups.get(row.key)
                        if adds_up
                        else columns[s.id][stage].value(row.key)
                    )
                    if columns[s.id][stage].shown
                    else None
                )
                for stage in stages
            }
        criteria.append(
            {"lineage": row.key, "code": row.code, "title": row.title,
             "max_points": _text(row.max_points), "leaf": row.is_leaf, "sheets": values}
        )  # fmt: skip
    return {
        "group": group.name,
        "units": [sheet_summary(s) for s in sheets],
        "criteria": criteria,
        "totals": {
            str(s.id): {
                stage.value: format_points(columns[s.id][stage].totals.final)
                for stage in stages
                if columns[s.id][stage].shown
            }
            for s in sheets
        },
    }


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/results",
    methods=["GET"],
    scope=Scope.READ,
    summary="Kết quả, xếp hạng và xếp loại (đơn vị: chỉ của mình, sau khi công bố)",
    tags=TAGS,
    response=RESULTS,
)
def results(period_id: int):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    user = current_api_user()
    ensure(period.can_see_results(user))
    every_unit = period.can_see_all_results(user)
    outcome = queries.period_results(period).visible_to(user)
    rows = []
    for row in outcome.rows:
        complete = row.complete
        rows.append(
            {
                "sheet_id": row.sheet.id,
                "unit_id": row.sheet.unit_id,
                "unit": row.sheet.unit.name,
                "group_id": row.sheet.group_id,
                "group": row.sheet.group.name if row.sheet.group else None,
                "totals": {
                    stage.value: format_points(column.totals.final)
                    for stage, column in row.columns.items()
                    if column.shown
                },
                "bonus": format_points(row.final.bonus) if complete else None,
                "deductions": format_points(row.final.deductions) if complete else None,
                "final": format_points(row.final.final) if complete else None,
                "group_rank": row.ranked.group_rank if row.ranked else None,
                "overall_rank": row.ranked.overall_rank if row.ranked and every_unit else None,
                "needs_vote": bool(row.ranked and row.ranked.needs_vote),
                "classification": row.classified.band.label if row.classified else None,
                "classification_key": row.classified.band.key if row.classified else None,
                "capped": bool(row.classified and row.classified.capped),
                "disqualifier": row.sheet.disqualifier,
            }
        )
    return {
        "period_id": period.id,
        "total_max": format_points(outcome.table.total_max),
        "published": period.is_published,
        "published_at": _iso(period.published_at),
        "every_unit": every_unit,
        "rows": rows,
    }


def _file(data: bytes, name: str, mimetype: str):  # type: ignore[no-untyped-def]
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


GROUP_QUERY = {
    "group_id": {
        "type": "integer",
        "minimum": 1,
        "description": "Chỉ một Cụm, Khối",
    }
}


def _export_group(period: ScoringPeriod, query: dict[str, Any] | None) -> Group | None:
    group_id = (query or {}).get("group_id")
    if group_id is None:
        return None
    group = db.session.get(Group, group_id)
    if group is None or group.year_id != period.year_id:
        raise NotFound(_("Không tìm thấy Cụm, Khối."))
    return group


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/results.xlsx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tải kết quả (.xlsx) của kỳ hoặc một Cụm, Khối: các cột điểm, mọi tiêu chí",
    tags=TAGS,
    content_type=exports.XLSX,
    query=GROUP_QUERY,
)
def results_xlsx(period_id: int, query: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    ensure(period.can_export_results(current_api_user()))
    group = _export_group(period, query)
    return _file(
        exports.results_xlsx(queries.period_results(period), group),
        exports.results_filename(period, group),
        exports.XLSX,
    )


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/results.pdf",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tải kết quả (PDF, văn bản chính thức) của kỳ hoặc một Cụm, Khối",
    tags=TAGS,
    content_type=exports.PDF,
    query=GROUP_QUERY,
)
def results_pdf(period_id: int, query: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    ensure(period.can_export_results(current_api_user()))
    group = _export_group(period, query)
    return _file(
        exports.results_pdf(queries.period_results(period), group),
        exports.results_filename(period, group, "pdf"),
        exports.PDF,
    )


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/actions",
    methods=["POST"],
    scope=Scope.SCORE,
    summary="Công bố kết quả (publish) hoặc thu hồi công bố kèm lý do (unpublish)",
    tags=TAGS,
    body=ACTION_IN,
    response=PERIOD,
)
def period_action(period_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    user = current_api_user()
    ensure(period.can_decide_publication(user))  # before the body: 403, not 422
    if any(row.action == body["action"] for row in PERIOD_MACHINE.transitions_from(period.state)):
        ensure(period.can_apply(user, body["action"]))
    operations.apply_period_action(period, body["action"], user, body.get("note"))
    db.session.commit()
    return period_json(_period(period_id))


def _bands_json(period: ScoringPeriod, user: Any) -> dict[str, Any]:
    total_max = queries.load_criteria(period.criteria_version_id).total_max
    config = bands_to_config(period.bands_for(total_max))
    for band in config["bands"]:
        band["min_points"] = format_points(Decimal(band["min_points"]))
    return {
        "period_id": period.id,
        "total_max": format_points(total_max),
        "editable": period.can_edit_bands(user),
        "bands": config["bands"],
    }


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/bands",
    methods=["GET"],
    scope=Scope.READ,
    summary="Mức xếp loại của kỳ: tên mức, điểm tối thiểu, điều kiện",
    tags=TAGS,
    response=BANDS,
)
def get_bands(period_id: int):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    user = current_api_user()
    ensure(period.can_see_all_results(user))
    return _bands_json(period, user)


@api_put_patch(
    bp,
    "/scoring/periods/<int:period_id>/bands",
    endpoints=("put_bands", "patch_bands"),
    scope=Scope.SCORE,
    put="Sửa mức xếp loại (cao nhất trước; mức thấp nhất từ 0 điểm, không điều kiện)",
    patch="Sửa mức xếp loại: cả danh sách mức, như PUT (bảng mức là một trường)",
    tags=TAGS,
    body=BANDS_IN,
    response=BANDS,
)
def save_bands(period_id: int, body: dict[str, Any], partial: bool):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    user = current_api_user()
    ensure(period.can_edit_bands(user))
    bands = []
    for number, item in enumerate(body["bands"], start=1):
        if "min_points" not in item:
            raise Invalid(_("Mức thứ %(n)d cần điểm tối thiểu (min_points).", n=number))
        bands.append(
            scoring.Band(
                item.get("key") or f"band-{number}",
                item["label"].strip(),
                _points(item["min_points"], f"Điểm tối thiểu của mức thứ {number}") or scoring.ZERO,
                bool(item.get("first_in_group_only", False)),
                bool(item.get("no_disqualifier", False)),
            )
        )
    operations.set_bands(period, bands, user)
    db.session.commit()
    return _bands_json(_period(period_id), user)


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/results.xlsx",
    methods=["POST"],
    scope=Scope.READ,
    summary="Tạo tệp kết quả (.xlsx) trong nền: 202 và Location của việc",
    tags=TAGS,
    response=JOB_ACCEPTED,
    status=202,
)
def results_xlsx_job(period_id: int):  # type: ignore[no-untyped-def]
    return _results_job(period_id, JobKind.RESULTS_XLSX)


@api_route(
    bp,
    "/scoring/periods/<int:period_id>/results.pdf",
    methods=["POST"],
    scope=Scope.READ,
    summary="Tạo tệp kết quả (PDF) trong nền: 202 và Location của việc",
    tags=TAGS,
    response=JOB_ACCEPTED,
    status=202,
)
def results_pdf_job(period_id: int):  # type: ignore[no-untyped-def]
    return _results_job(period_id, JobKind.RESULTS_PDF)


def _results_job(period_id: int, kind: JobKind):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    ensure(period.can_export_results(current_api_user()))
    job = background.start_job(kind, owner=current_api_user(), subject=period)
    db.session.commit()
    return background.accepted(job)


# --- sheets -----------------------------------------------------------------------------------


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Phiếu chấm điểm: tiêu chí, ba cột điểm, tổng điểm",
    tags=TAGS,
    response=SHEET,
)
def get_sheet(sheet_id: int):  # type: ignore[no-untyped-def]
    return sheet_json(_sheet(sheet_id), current_api_user())


@api_put_patch(
    bp,
    "/scoring/sheets/<int:sheet_id>/scores",
    endpoints=("save_scores", "patch_scores"),
    idempotent=True,
    scope=Scope.SCORE,
    put="Lưu điểm một cột: mỗi điểm gửi đủ giá trị, ghi chú (rỗng: bỏ ghi chú) và phiên bản khoá",
    patch="Lưu điểm một cột: ghi chú không gửi thì giữ nguyên",
    tags=TAGS,
    body=SCORES_PUT,
    patch_body=SCORES_IN,
    response=SHEET,
)
def save_scores(sheet_id: int, body: dict[str, Any], partial: bool):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    user = current_api_user()
    # Before the body (which names the column): whoever may enter no column at all is
    # refused whatever they send.
    ensure(any(sheet.can_edit_stage(user, stage) for stage in ScoreStage))
    stage = ScoreStage(body["stage"])
    ensure(sheet.can_edit_stage(user, stage))
    entries = [
        operations.ScoreInput(
            item["lineage"], item["value"], item["lock_version"], item.get("note")
        )
        for item in body["scores"]
    ]
    operations.save_scores(sheet, stage, entries, user)
    db.session.commit()
    return sheet_json(_sheet(sheet_id), user)


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/confirm",
    methods=["POST"],
    idempotent=True,
    scope=Scope.SCORE,
    summary="Thống nhất các tiêu chí còn trống với cột điểm trước (một lần bấm)",
    tags=TAGS,
    response=CONFIRMED,
)
def confirm_scores(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    user = current_api_user()
    ensure(sheet.can_edit_scores(user))
    filled = operations.confirm_previous_scores(sheet, user)
    db.session.commit()
    return {"filled": filled, "sheet": sheet_summary(_sheet(sheet_id))}


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/actions",
    methods=["POST"],
    scope=Scope.SCORE,
    summary="Chuyển bước phiếu (nộp, chấm, thẩm định, công nhận, trả lại kèm lý do)",
    tags=TAGS,
    body=ACTION_IN,
    response=SHEET_SUMMARY,
)
def apply_action(sheet_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    operations.apply_sheet_action(sheet, body["action"], current_api_user(), body.get("note"))
    db.session.commit()
    fresh = _sheet(sheet_id)
    last = queries.last_transitions([fresh.id]).get(fresh.id)
    return sheet_summary(fresh, queries.is_returned(last))


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/adjustments",
    methods=["POST"],
    idempotent=True,
    scope=Scope.SCORE,
    summary="Thêm khoản điểm thưởng hoặc điểm trừ kèm lý do ở cột đang chấm",
    tags=TAGS,
    body=ADJUSTMENT_IN,
    response=ADJUSTMENT,
    status=201,
)
def add_adjustment(sheet_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    user = current_api_user()
    ensure(sheet.can_adjust(user))
    item = operations.add_adjustment(
        sheet,
        AdjustmentKind(body["kind"]),
        body["points"],
        body["reason"],
        user,
        row=body.get("row") or None,
    )
    db.session.commit()
    fresh = sheet_json(_sheet(sheet_id), user)
    return next(a for a in fresh["adjustments"] if a["id"] == item.id), 201


@api_route(
    bp,
    "/scoring/adjustments/<int:adjustment_id>",
    methods=["DELETE"],
    scope=Scope.SCORE,
    summary="Bỏ khoản điểm thưởng hoặc điểm trừ (người đề xuất, khi cột còn mở)",
    tags=TAGS,
    status=204,
)
def delete_adjustment(adjustment_id: int):  # type: ignore[no-untyped-def]
    item = get_or_404(ScoreAdjustment, adjustment_id, _("Không tìm thấy khoản điểm."))
    user = current_api_user()
    ensure(item.sheet.can_view(user))
    ensure(item.can_remove(user))
    operations.remove_adjustment(item, user)
    db.session.commit()
    return "", 204


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/evidence",
    methods=["POST"],
    idempotent=True,
    scope=Scope.SCORE,
    summary="Tải lên minh chứng (PDF, DOCX, XLSX, JPG, PNG); trường lineage tùy chọn",
    tags=TAGS,
    upload=True,
    response=EVIDENCE,
    status=201,
)
def upload_evidence(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    user = current_api_user()
    ensure(sheet.can_upload_evidence(user))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(_("Thiếu tệp minh chứng (trường file)."))
    evidence = operations.upload_evidence(
        sheet, request.form.get("lineage") or None, upload.filename, upload.read(), user
    )
    db.session.commit()
    return evidence_json(evidence), 201


@api_route(
    bp,
    "/scoring/evidence/<int:evidence_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tải về minh chứng",
    tags=TAGS,
    content_type="application/octet-stream",
)
def download_evidence(evidence_id: int):  # type: ignore[no-untyped-def]
    evidence = get_or_404(Evidence, evidence_id, _("Không tìm thấy minh chứng."))
    ensure(evidence.can_download(current_api_user()))
    return exports.evidence_response(evidence)


@api_route(
    bp,
    "/scoring/evidence/<int:evidence_id>",
    methods=["DELETE"],
    scope=Scope.SCORE,
    summary="Xoá minh chứng",
    tags=TAGS,
    status=204,
)
def delete_evidence(evidence_id: int):  # type: ignore[no-untyped-def]
    evidence = get_or_404(Evidence, evidence_id, _("Không tìm thấy minh chứng."))
    user = current_api_user()
    ensure(evidence.can_download(user))
    ensure(evidence.can_delete(user))
    operations.delete_evidence(evidence, user)
    db.session.commit()
    return "", 204


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/deadline",
    methods=["POST"],
    scope=Scope.SCORE,
    summary="Gia hạn bước hiện tại cho một phiếu",
    tags=TAGS,
    body=DEADLINE_IN,
    response=SHEET_SUMMARY,
)
def extend_deadline(sheet_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    user = current_api_user()
    ensure(sheet.can_extend_deadline(user))
    operations.extend_deadline(sheet, _moment(body["due"], _("Hạn mới")), body["reason"], user)
    db.session.commit()
    return sheet_summary(_sheet(sheet_id))


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/disqualification",
    methods=["POST"],
    scope=Scope.SCORE,
    summary="Ghi nhận điều kiện loại trừ",
    tags=TAGS,
    body=DISQUALIFY_IN,
    response=SHEET_SUMMARY,
)
def disqualify(sheet_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    user = current_api_user()
    ensure(sheet.can_disqualify(user))
    operations.disqualify(sheet, body["condition"], body.get("note", ""), user)
    db.session.commit()
    return sheet_summary(_sheet(sheet_id))


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/disqualification",
    methods=["DELETE"],
    scope=Scope.SCORE,
    summary="Bỏ điều kiện loại trừ",
    tags=TAGS,
    response=SHEET_SUMMARY,
)
def requalify(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    user = current_api_user()
    ensure(sheet.can_disqualify(user))
    operations.clear_disqualification(sheet, "", user)
    db.session.commit()
    return sheet_summary(_sheet(sheet_id))


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/history",
    methods=["GET"],
    scope=Scope.READ,
    summary="Lịch sử xử lý phiếu: chuyển bước, thay đổi điểm, gia hạn",
    tags=TAGS,
    response=HISTORY,
)
def history(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    transitions, changes = queries.sheet_history(sheet)
    return {
        "transitions": [
            {
                "at": t.at.isoformat(),
                "actor": t.actor.full_name if t.actor else None,
                "action": t.action,
                "from": t.source,
                "to": t.target,
                "note": t.note,
            }
            for t in transitions
        ],
        "score_changes": [
            {
                "at": c.at.isoformat(),
                "actor": c.actor.full_name if c.actor else None,
                "lineage": c.lineage,
                "stage": c.stage.value,
                "old": _text(c.old_value),
                "new": _text(c.new_value),
                "note": c.note,
            }
            for c in changes
        ],
        "extensions": [
            {
                "at": e.at.isoformat(),
                "step": e.step_key,
                "from": _iso(e.previous_due_at),
                "to": e.due_at.isoformat(),
                "reason": e.reason,
            }
            for e in sheet.extensions
        ],
    }


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/export.xlsx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tải phiếu chấm điểm (.xlsx)",
    tags=TAGS,
    content_type=exports.XLSX,
)
def sheet_xlsx(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    return _file(exports.sheet_xlsx(sheet), exports.sheet_filename(sheet, "xlsx"), exports.XLSX)


@api_route(
    bp,
    "/scoring/sheets/<int:sheet_id>/export.pdf",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tải phiếu chấm điểm (PDF)",
    tags=TAGS,
    content_type=exports.PDF,
)
def sheet_pdf(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet(sheet_id)
    return _file(exports.sheet_pdf(sheet), exports.sheet_filename(sheet, "pdf"), exports.PDF)
