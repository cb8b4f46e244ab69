"""Properties of the whole scoring path: random criteria tables, random scores at every
stage, returns and resubmissions, through the operations the pages call, then checked
against the stored rows and against every place a number is shown.

For each random case KV2's sheet goes self-score → Cụm → office → council, with bonus
and deduction items, reviewers that change some values (with a reason) and leave the
rest, and returns from the Cụm or the office. After every step:

- each column's total is the capped sum of its criteria plus bonus minus deductions,
  recomputed here from the stored ``Score`` rows with the rules written plainly;
- a value a later column did not change is the earlier column's (bonus included); a
  changed one is stored with who changed it and why;
- a return changes no stored value.

At the end the council publishes: ranks follow the totals and the tie rule, the
classification is the band lookup with its conditions, and the sheet page, the API, the
results page, the results .xlsx and PDF and the publication notices show the same figures.
"""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from app import db
from tasks.models import Notification
from tests.fixtures.workflow import place, sheet_of
from workflow import operations
from workflow.models import AdjustmentKind, Score, ScoreChange, ScoreSheet, ScoreStage
from workflow.operations import ScoreInput
from workflow.queries import load_criteria
from workflow.scoring import format_points

D = Decimal
ZERO = D(0)
STAGES = (ScoreStage.SELF, ScoreStage.CLUSTER, ScoreStage.VERIFIED)
ROMAN = ("I", "II", "III")
# A database case is a few hundred statements and five documents: fewer than the pure
# properties, and as many more in a longer profile.
EXAMPLES = max(3, settings.default.max_examples // 10)
PERIODS = itertools.count(1)


def quarters(top: Decimal, least: int = 0) -> st.SearchStrategy[Decimal]:
    """Points in quarter steps from ``least`` quarters to ``top`` (what tables and
    reviewers write)."""
    return st.integers(least, int(top * 4)).map(lambda n: D(n) / 4)


def comma(value: Decimal) -> str:
    """As a Vietnamese user types it: a decimal comma, trailing zeros optional."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


# -- random tables --------------------------------------------------------------------------


def node(kind: str, number: str, title: str, max_points: Decimal | None, children=()):  # type: ignore[no-untyped-def]
    return {
        "kind": kind,
        "number": number,
        "title": title,
        "max_points": None if max_points is None else str(max_points),
        "guidance": "",
        "children": list(children),
    }


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Groups I, II… whose criteria restart at 1 (codes repeat across groups), some with
    sub-criteria 1.1, 1.2; maxima in quarter points; group caps at or below the sum of
    their children; a bonus row (capped or not) and maybe a deduction row."""
    tops = []
    for roman in ROMAN[: draw(st.integers(1, 2))]:
        children = []
        for number in range(1, draw(st.integers(1, 3)) + 1):
            if draw(st.booleans()):
                leaves = [
                    node(
                        "criterion",
                        f"{number}.{sub}",
                        f"Tiêu chí {roman}.{number}.{sub}",
                        D(draw(st.integers(1, 60))) / 4,
                    )
                    for sub in range(1, draw(st.integers(1, 2)) + 1)
                ]
                children.append(
                    node("criterion", str(number), f"Nhóm {roman}.{number}", None, leaves)
                )
            else:
                maximum = D(draw(st.integers(1, 80))) / 4
                children.append(
                    node("criterion", str(number), f"Tiêu chí {roman}.{number}", maximum)
                )
        whole = sum((child_max(child) for child in children), ZERO)
        cap = draw(st.one_of(st.none(), quarters(whole, least=1)))
        tops.append(node("criterion", roman, f"Nhóm {roman}", cap, children))
    bonus_max = draw(st.one_of(st.none(), st.integers(1, 10).map(D)))
    tops.append(node("bonus", "", "Điểm thưởng", bonus_max))
    if draw(st.booleans()):
        tops.append(node("deduction", "", "Điểm trừ", draw(st.one_of(st.none(), st.just(D(5))))))
    return tops


def child_max(item: dict[str, Any]) -> Decimal:
    if item["max_points"] is not None:
        return D(item["max_points"])
    return sum((child_max(child) for child in item["children"]), ZERO)


def walk(items: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    for item in items:
        yield item
        yield from walk(item["children"])


def leaves(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        item
        for top in tree
        if top["kind"] == "criterion"
        for item in walk([top])
        if not item["children"]
    ]


# -- the rules, written plainly, over stored rows ----------------------------------------------


@dataclass
class Case:
    """What the test knows of one sheet while it drives it."""

    tree: list[dict[str, Any]]
    keys: dict[str, str]  # criterion title -> lineage
    bonus_cap: Decimal | None
    items: dict[str, str] = field(default_factory=dict)  # item key -> "bonus" / "deduction"

    def key(self, item: dict[str, Any]) -> str:
        return self.keys[item["title"]]

    def row_key(self, kind: str) -> str | None:
        return next((self.key(top) for top in self.tree if top["kind"] == kind), None)


def stored(sheet: ScoreSheet) -> dict[tuple[str, str], tuple[Decimal | None, str]]:
    rows = db.session.scalars(select(Score).where(Score.sheet_id == sheet.id)).all()
    return {(row.stage.value, row.lineage): (row.value, row.note) for row in rows}


def inputs(
    sheet: ScoreSheet, stage: ScoreStage, values: dict[str, tuple[Decimal, str | None]]
) -> list[ScoreInput]:
    """Entries as the form posts them: each with the version of the value it shows."""
    versions = {
        row.lineage: row.lock_version
        for row in db.session.scalars(
            select(Score).where(Score.sheet_id == sheet.id, Score.stage == stage)
        )
    }
    return [
        ScoreInput(key, comma(value), versions.get(key, 0), note)
        for key, (value, note) in values.items()
    ]


def held_columns(sheet: ScoreSheet) -> dict[ScoreStage, dict[str, Decimal]]:
    """Each column's values: its own stored ones, else the column before it holds."""
    rows = stored(sheet)
    held: dict[ScoreStage, dict[str, Decimal]] = {}
    before: dict[str, Decimal] = {}
    for stage in STAGES:
        column = dict(before)
        for (name, key), (value, _note) in rows.items():
            if name == stage.value and value is not None:
                column[key] = value
        held[stage] = before = column
    return held


@dataclass(frozen=True)
class Figures:
    base: Decimal
    bonus: Decimal
    deductions: Decimal
    final: Decimal
    group_one: Decimal


def figures(case: Case, values: dict[str, Decimal]) -> Figures:
    filed = {"bonus": ZERO, "deduction": ZERO}
    for key, kind in case.items.items():
        filed[kind] += values.get(key, ZERO)

    def total(item: dict[str, Any]) -> Decimal:
        if item["kind"] != "criterion":
            value = filed[item["kind"]]
        elif not item["children"]:
            value = values.get(case.key(item), ZERO)
        else:
            value = sum((total(child) for child in item["children"]), ZERO)
        if item["max_points"] is not None:
            value = min(value, D(item["max_points"]))
        return value

    groups = [total(top) for top in case.tree if top["kind"] == "criterion"]
    bonus = sum((total(top) for top in case.tree if top["kind"] == "bonus"), ZERO)
    if case.bonus_cap is not None:
        bonus = min(bonus, case.bonus_cap)
    deductions = sum((total(top) for top in case.tree if top["kind"] == "deduction"), ZERO)
    base = sum(groups, ZERO)
    return Figures(base, bonus, deductions, base + bonus - deductions, groups[0])


# -- checks after every step -------------------------------------------------------------------


def check_columns(case: Case, sheet: ScoreSheet, reader: Any) -> dict[ScoreStage, Figures]:
    """The API's totals (which the page, the exports and the ranking share) equal the
    rules applied to the stored rows, and each held value is the carried one."""
    db.session.expire_all()
    held = held_columns(sheet)
    answer = reader.get(f"/api/v1/scoring/sheets/{sheet.id}").json
    codes = [row["code"] for row in answer["criteria"] if row["code"]]
    assert len(codes) == len(set(codes))  # "II.1", not a second "1"
    expected = {stage: figures(case, held[stage]) for stage in STAGES}
    for stage in STAGES:
        if stage.value not in answer["totals"]:
            continue
        shown = answer["totals"][stage.value]
        want = expected[stage]
        assert (shown["base"], shown["bonus"], shown["deductions"], shown["final"]) == (
            format_points(want.base),
            format_points(want.bonus),
            format_points(want.deductions),
            format_points(want.final),
        ), stage
        for row in answer["criteria"] + answer["adjustments"]:
            key = row.get("lineage") or row["key"]
            if row.get("scored", True) and key in held[stage]:
                assert row["held"][stage.value] == format_points(held[stage][key])
    return expected


def check_reasons(sheet: ScoreSheet, stage: ScoreStage, reviewer: Any, changed: dict) -> None:  # type: ignore[type-arg]
    """Every value a reviewer changed is on record with the reviewer and the reason."""
    changes = db.session.scalars(
        select(ScoreChange).where(ScoreChange.sheet_id == sheet.id, ScoreChange.stage == stage)
    ).all()
    for key, (value, reason) in changed.items():
        assert any(
            c.lineage == key and c.new_value == value and c.actor_id == reviewer.id
            and c.note == reason
            for c in changes
        ), key  # fmt: skip


# -- one reviewer's pass -----------------------------------------------------------------------


def review(case: Case, sheet: ScoreSheet, stage: ScoreStage, who: Any, data: st.DataObject) -> None:
    """The reviewer posts the form as it is (nothing changes), then changes some values
    with a reason, and maybe files an item of their own."""
    earlier = STAGES[STAGES.index(stage) - 1]
    before = held_columns(sheet)
    as_posted = inputs(sheet, stage, {key: (value, None) for key, value in before[stage].items()})
    assert operations.save_scores(sheet, stage, as_posted, who) == []
    db.session.commit()
    changed: dict[str, tuple[Decimal, str]] = {}
    for item in leaves(case.tree):
        key = case.key(item)
        if data.draw(st.integers(0, 3), label="change?") == 0:
            value = data.draw(quarters(D(item["max_points"])), label=f"{stage.value} {key}")
            if value != before[earlier].get(key):
                changed[key] = (value, f"Điều chỉnh theo hồ sơ ({stage.value})")
    for key, kind in case.items.items():
        if data.draw(st.integers(0, 3), label="change item?") == 0:
            top = next(t for t in case.tree if t["kind"] == kind)
            limit = D(top["max_points"]) if top["max_points"] is not None else D(10)
            value = data.draw(quarters(limit), label=f"{stage.value} {key}")
            if value != before[earlier].get(key):
                changed[key] = (value, "Không đủ căn cứ")
    operations.save_scores(sheet, stage, inputs(sheet, stage, changed), who)
    db.session.commit()
    check_reasons(sheet, stage, who, changed)
    if data.draw(st.booleans(), label="reviewer adds a bonus"):
        add_item(case, sheet, "bonus", who, data)


def add_item(case: Case, sheet: ScoreSheet, kind: str, who: Any, data: st.DataObject) -> None:
    top = next(t for t in case.tree if t["kind"] == kind)
    limit = D(top["max_points"]) if top["max_points"] is not None else D(10)
    points = data.draw(quarters(limit, least=1), label=f"{kind} points")
    item = operations.add_adjustment(
        sheet, AdjustmentKind(kind), comma(points), f"{kind} {len(case.items) + 1}", who
    )
    db.session.commit()
    case.items[item.key] = kind


def act(sheet: ScoreSheet, action: str, who: Any, note: str | None = None) -> None:
    """A step; a return must leave every stored value as it was."""
    before = stored(sheet)
    operations.apply_sheet_action(sheet, action, who, note)
    db.session.commit()
    db.session.expire_all()
    assert stored(sheet) == before, action


def self_score(case: Case, sheet: ScoreSheet, org: Any, data: st.DataObject, first: bool) -> None:
    values = {}
    for item in leaves(case.tree):
        if first or data.draw(st.integers(0, 2), label="self change?") == 0:
            values[case.key(item)] = data.draw(quarters(D(item["max_points"])), label="self")
    entries = inputs(sheet, ScoreStage.SELF, {k: (v, None) for k, v in values.items()})
    operations.save_scores(sheet, ScoreStage.SELF, entries, org.staff2)
    db.session.commit()
    if first:
        for kind in ("bonus", "deduction"):
            if case.row_key(kind) is None:
                continue
            for _ in range(data.draw(st.integers(0 if kind == "deduction" else 1, 2))):
                add_item(case, sheet, kind, org.staff2, data)


# -- the documents ---------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.pdf"
        path.write_bytes(data)
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout


def page_cell(page: str, figure: str, stage: str) -> str:
    match = re.search(rf'id="total-{figure}-{stage}">\s*([^<]*?)\s*<', page)
    assert match is not None, (figure, stage)
    return match.group(1)


@settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=tables(), bonus_cap=st.one_of(st.none(), st.integers(0, 8).map(D)), data=st.data())
def test_every_stage_adds_up_carries_keeps_and_shows_the_same_figures(  # type: ignore[no-untyped-def]
    app, client, auth, api, org, adopt_criteria, open_period, tree, bonus_cap, data
):
    draft = adopt_criteria(tree, title=f"Bảng tiêu chí ngẫu nhiên {next(PERIODS)}")
    period = open_period(draft=draft, name=draft.title, bonus_cap=bonus_cap)
    table = load_criteria(period.criteria_version_id)
    case = Case(tree, {row.title: row.key for row in table.rows}, bonus_cap)
    sheet = sheet_of(period, org.r2)
    reader = api(org.council)

    # Self-score, with items; the Cụm reviews, maybe returns the sheet, which comes back.
    self_score(case, sheet, org, data, first=True)
    check_columns(case, sheet, reader)
    act(sheet, "submit", org.head2)
    review(case, sheet, ScoreStage.CLUSTER, org.head1, data)
    check_columns(case, sheet, reader)
    if data.draw(st.booleans(), label="Cụm returns"):
        act(sheet, "return", org.head1, "Bổ sung minh chứng")
        self_score(case, sheet, org, data, first=False)
        check_columns(case, sheet, reader)
        act(sheet, "submit", org.head2)
    act(sheet, "review", org.head1)
    check_columns(case, sheet, reader)

    # The office reviews or confirms; it may send the sheet back to the Cụm or the unit.
    if data.draw(st.booleans(), label="office confirms"):
        operations.confirm_previous_scores(sheet, org.verifier)
        db.session.commit()
    review(case, sheet, ScoreStage.VERIFIED, org.verifier, data)
    check_columns(case, sheet, reader)
    back = data.draw(st.sampled_from([None, "return", "return_to_cluster"]), label="office returns")
    if back is not None:
        act(sheet, back, org.verifier, "Xem lại tiêu chí")
        if back == "return":
            self_score(case, sheet, org, data, first=False)
            act(sheet, "submit", org.head2)
        check_columns(case, sheet, reader)
        act(sheet, "review", org.head1)
    act(sheet, "verify", org.verifier)
    act(sheet, "approve", org.council)
    final = check_columns(case, sheet, reader)[ScoreStage.VERIFIED]

    # KV1 and KV3 are decided with random self-scores; one unit may be disqualified.
    totals = {org.r2.id: final}
    for unit in (org.r1, org.r3):
        other = sheet_of(period, unit)
        values = {
            case.key(item): data.draw(quarters(D(item["max_points"])), label="other")
            for item in leaves(tree)
        }
        for key, value in values.items():
            db.session.add(
                Score(sheet_id=other.id, lineage=key, stage=ScoreStage.SELF, value=value)
            )
        place(other, "approved")  # commits
        totals[unit.id] = figures(Case(tree, case.keys, bonus_cap), values)
    barred = data.draw(st.sampled_from([None, org.r1, org.r2, org.r3]), label="disqualified")
    if barred is not None and period.disqualifiers:
        operations.disqualify(
            sheet_of(period, barred), period.disqualifiers[0], "Kết luận thanh tra", org.verifier
        )
        db.session.commit()
    response = reader.post(
        f"/api/v1/scoring/periods/{period.id}/actions", json={"action": "publish"}
    )
    assert response.status_code == 200, response.json
    check_results(period, org, totals, barred, table.total_max, reader, client, auth, sheet)


def expected_ranks(totals: dict[int, Figures]) -> dict[int, tuple[int, bool]]:
    """Competition ranks by total, then group I; a tie left after both shares the rank
    (and needs the Cụm's vote)."""
    keys = {unit: (f.final, f.group_one) for unit, f in totals.items()}
    ranks = {}
    for unit, key in keys.items():
        rank = 1 + sum(1 for other in keys.values() if other > key)
        tied = sum(1 for other in keys.values() if other == key) > 1
        ranks[unit] = (rank, tied)
    return ranks


def expected_band(period, figures_: Figures, rank: int, tied: bool, barred: bool, total_max):  # type: ignore[no-untyped-def]
    for band in period.bands_for(total_max).bands:
        if figures_.final < band.min_points:
            continue
        if band.first_in_group_only and (rank != 1 or tied):
            continue
        if band.no_disqualifier and barred:
            continue
        return band.label
    raise AssertionError("the lowest band starts at 0")


def check_results(period, org, totals, barred, total_max, reader, client, auth, sheet) -> None:  # type: ignore[no-untyped-def]
    units = {org.r1.id: org.r1, org.r2.id: org.r2, org.r3.id: org.r3}
    ranks = expected_ranks(totals)
    want = {
        unit_id: {
            "final": format_points(f.final),
            "bonus": format_points(f.bonus),
            "deductions": format_points(f.deductions),
            "group_rank": ranks[unit_id][0],
            "classification": expected_band(
                period, f, *ranks[unit_id], barred is not None and barred.id == unit_id, total_max
            ),
        }
        for unit_id, f in totals.items()
    }

    # The API's results.
    rows = reader.get(f"/api/v1/scoring/periods/{period.id}/results").json["rows"]
    got = {row["unit_id"]: {name: row[name] for name in want[row["unit_id"]]} for row in rows}
    assert got == want

    # The results page, as the council sees it.
    auth.login(org.council)
    page = client.get(f"/scoring/periods/{period.id}/results").get_data(as_text=True)
    for row in rows:
        html = page.split(f'id="result-{row["sheet_id"]}"')[1].split("</tr>")[0]
        expected = want[row["unit_id"]]
        assert f'data-stage="verified">{expected["final"]}<' in html
        assert f'data-figure="bonus">{expected["bonus"]}<' in html
        assert f'data-figure="deductions">{expected["deductions"]}<' in html
        assert f'data-figure="group-rank">{expected["group_rank"]}<' in html
        assert expected["classification"] in html

    # The sheet page of KV2.
    sheet_page = client.get(f"/scoring/sheets/{sheet.id}").get_data(as_text=True)
    assert page_cell(sheet_page, "final", "verified") == want[org.r2.id]["final"]
    assert page_cell(sheet_page, "bonus", "verified") == want[org.r2.id]["bonus"]
    auth.logout()

    # KV2's sheet as .xlsx and PDF: the office's column ends in the same total.
    base = f"/api/v1/scoring/sheets/{sheet.id}/export"
    book = load_workbook(io.BytesIO(reader.get(f"{base}.xlsx").data)).active
    line = next(r for r in book.iter_rows(values_only=True) if r[0] == "Tổng điểm")
    assert format_points(D(str(line[2 + len(STAGES)]))) == want[org.r2.id]["final"]
    text = pdf_text(reader.get(f"{base}.pdf").data)
    line = next(t for t in text.splitlines() if t.strip().startswith("Tổng điểm"))
    assert line.split()[-1] == want[org.r2.id]["final"]

    # The results .xlsx.
    workbook = load_workbook(io.BytesIO(reader.get(
        f"/api/v1/scoring/periods/{period.id}/results.xlsx").data))  # fmt: skip
    ranking = workbook["Xếp hạng"]
    header = [c.value for c in ranking[4]]
    for values in ranking.iter_rows(min_row=5, values_only=True):
        line = dict(zip(header, values, strict=False))
        unit_id = next(u for u, unit in units.items() if unit.name == line["Đơn vị"])
        expected = want[unit_id]
        assert format_points(D(str(line["Tổng điểm"]))) == expected["final"]
        assert format_points(D(str(line["Điểm thưởng"]))) == expected["bonus"]
        assert format_points(D(str(line["Điểm trừ"]))) == expected["deductions"]
        assert line["Hạng trong Cụm, Khối"] == expected["group_rank"]
        assert line["Xếp loại"] == expected["classification"]

    # The results PDF: each unit's line carries its total, bonus and deductions.
    text = pdf_text(reader.get(f"/api/v1/scoring/periods/{period.id}/results.pdf").data)
    for unit_id, unit in units.items():
        line = next(line for line in text.splitlines() if unit.name in line)
        expected = want[unit_id]
        numbers = line.split(unit.name)[1].split()
        assert expected["final"] in numbers
        assert expected["bonus"] in numbers and expected["deductions"] in numbers

    # The notices (and so the mails) each unit gets on publication.
    notices = db.session.scalars(
        select(Notification).where(
            Notification.kind == "scoring.publish", Notification.url.contains(f"/{period.id}/")
        )
    ).all()
    for unit_id, unit in units.items():
        bodies = [n.body for n in notices if n.body.startswith(unit.name + "\n")]
        assert bodies, unit.name
        expected = want[unit_id]
        for body in bodies:
            assert f"Tổng điểm: {expected['final']}" in body
            assert f": {expected['group_rank']}\n" in body
            assert body.endswith(f"Xếp loại: {expected['classification']}")
