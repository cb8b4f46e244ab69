"""A version's clause tree, rebuilt from the flat ordered clause list.

Clauses are stored flat, in document order (``seq``), each pointing at its parent. Pages,
the diff and the reports load them with ONE ordered query and rebuild the tree here in
O(n). Everything but `load_version_tree` is pure and works on anything shaped like a
clause (database rows, or `FlatClause` rows made from a parsed file for the preview).

Citation labels run from small to large, as Vietnamese legal texts cite: "điểm đ khoản 4 Điều 7",
"khoản 2 Điều 5", "Điều 5", "Chương II". Articles number through the whole document,
so a citation stops at the article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from drafts.diffing import DiffClause
from drafts.officefile import N_, Note

if TYPE_CHECKING:
    from drafts.models import Version

__all__ = [
    "VIETNAMESE_LETTERS",
    "ClauseLike",
    "FlatClause",
    "Renumbering",
    "TreeNode",
    "build_tree",
    "citation_labels",
    "criteria_problems",
    "flat_from_nodes",
    "format_points",
    "heading",
    "inherit_lineage",
    "iter_tree",
    "load_flat_clauses",
    "load_version_tree",
    "parse_points",
    "renumber_plan",
    "to_diff_clauses",
    "to_nodes",
]

# Points use the Vietnamese alphabet: đ is a letter; f, j, w, z are not.
VIETNAMESE_LETTERS = "abcdđeghiklmnopqrstuvxy"

CRITERIA_KINDS = frozenset({"criterion", "bonus", "deduction"})
HEADING_NAMES = {"part": "Phần", "chapter": "Chương", "section": "Mục", "subsection": "Tiểu mục"}
# How a provision is named inside a citation ("điểm a khoản 2 Điều 5").
CITATION_NAMES = {
    "part": "Phần",
    "chapter": "Chương",
    "section": "Mục",
    "subsection": "Tiểu mục",
    "article": "Điều",
    "clause": "khoản",
    "point": "điểm",
}
# A citation climbs from the clause to its ancestors and stops after one of these.
CITATION_STOPS = frozenset({"part", "chapter", "article"})


class ClauseLike(Protocol):
    """What the helpers read from a clause: a `drafts.models.Clause` or a `FlatClause`."""

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


@dataclass(slots=True)
class FlatClause:
    """A clause that is not (yet) in the database: a parsed upload being previewed."""

    id: int
    parent_id: int | None
    seq: int
    kind: str
    number: str = ""
    title: str = ""
    text: str = ""
    max_points: Decimal | None = None
    guidance: str = ""
    lineage: str = ""
    depth: int = 0


@dataclass(eq=False, slots=True)
class TreeNode:
    """One clause with its children, in document order, and its citation label.

    It also reads as a criterion (`kind`, `code`, `title`, `max_points`, `children`), so
    the criteria-sum check runs on it directly.
    """

    clause: Any
    children: list[TreeNode] = field(default_factory=list)
    label: str = ""
    depth: int = 0
    parent: TreeNode | None = field(default=None, repr=False)

    @property
    def id(self) -> int:
        return self.clause.id

    @property
    def kind(self) -> str:
        return str(self.clause.kind)

    @property
    def number(self) -> str:
        return self.clause.number or ""

    @property
    def code(self) -> str:
        return self.number

    @property
    def title(self) -> str:
        return self.clause.title or ""

    @property
    def text(self) -> str:
        return self.clause.text or ""

    @property
    def max_points(self) -> Decimal | None:
        return self.clause.max_points

    @property
    def guidance(self) -> str:
        return self.clause.guidance or ""

    @property
    def lineage(self) -> str:
        return self.clause.lineage

    @property
    def heading(self) -> str:
        return heading(self.kind, self.number)

    @property
    def is_criteria(self) -> bool:
        return self.kind in CRITERIA_KINDS


def heading(kind: str, number: str) -> str:
    """How a provision is written at its own start: "Chương I", "Điều 5.", "1.", "a)"."""
    kind = str(kind)
    number = (number or "").strip()
    if kind in HEADING_NAMES:
        return f"{HEADING_NAMES[kind]} {number}".strip()
    if kind == "article":
        return f"Điều {number}."
    if kind == "clause":
        return f"{number}." if number else ""
    if kind == "point":
        # Outline numbering ("1.1") is written with a dot, letters with a bracket.
        return f"{number}." if "." in number else (f"{number})" if number else "")
    if kind == "paragraph":
        return "-"
    return number


# --- building the tree -------------------------------------------------------------------
def build_tree(clauses: Sequence[ClauseLike]) -> list[TreeNode]:
    """The forest of top-level nodes, in the order given (document order), in O(n).

    Children keep the order of `clauses`. A clause whose parent is missing from the list
    becomes a root rather than disappearing.
    """
    nodes = {c.id: TreeNode(c) for c in clauses}
    roots: list[TreeNode] = []
    for clause in clauses:
        node = nodes[clause.id]
        parent = nodes.get(clause.parent_id) if clause.parent_id is not None else None
        if parent is None:
            roots.append(node)
        else:
            node.parent = parent
            parent.children.append(node)
    labels = citation_labels(clauses)
    for node in iter_tree(roots):
        node.label = labels[node.id]
        node.depth = node.parent.depth + 1 if node.parent is not None else 0
    return roots


def iter_tree(roots: Iterable[TreeNode]) -> Iterator[TreeNode]:
    """Every node, in document (pre-)order."""
    stack = list(reversed(list(roots)))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def load_version_tree(version: Version) -> list[TreeNode]:
    """A version's tree, with ONE ordered query whatever its size."""
    from sqlalchemy import select

    from drafts.models import Clause
    from extensions import db

    rows = db.session.scalars(
        select(Clause).where(Clause.version_id == version.id).order_by(Clause.seq)
    ).all()
    return build_tree(rows)


def load_flat_clauses(
    version_ids: Iterable[int], *, with_text: bool = True
) -> dict[int, list[FlatClause]]:
    """The clauses of these versions as `FlatClause` rows, per version id in document
    order, with ONE query whatever their size. Without `with_text`, only the outline:
    enough for the tree, headings and citations (text, max_points and guidance empty).

    For pages that only read: a regulation has thousands of clauses, and ORM objects
    cost several times more to build than these plain rows (whose attributes are also
    faster to read than a result row's)."""
    from sqlalchemy import String, select, type_coerce

    from drafts.models import Clause
    from extensions import db

    found: dict[int, list[FlatClause]] = {v: [] for v in version_ids}
    if not found:
        return found
    columns = [
        Clause.version_id,
        Clause.id,
        Clause.parent_id,
        Clause.seq,
        # The stored value, as FlatClause.kind is: no enum conversion per row.
        type_coerce(Clause.kind, String),
        Clause.number,
        Clause.title,
        Clause.lineage,
        Clause.depth,
    ]
    if with_text:
        columns += [Clause.text, Clause.max_points, Clause.guidance]
    if db.session.autoflush:
        db.session.flush()
    # Core execution: rows come from the cursor one at a time, rather than all built first.
    rows = db.session.connection().execute(
        select(*columns).where(Clause.version_id.in_(found)).order_by(Clause.version_id, Clause.seq)
    )
    for version_id, clause_id, parent_id, seq, kind, number, title, lineage, depth, *more in rows:
        text, max_points, guidance = more or ("", None, "")
        found[version_id].append(
            FlatClause(
                clause_id,
                parent_id,
                seq,
                kind,
                number,
                title,
                text,
                max_points,
                guidance,
                lineage,
                depth,
            )
        )
    return found


# --- citations ---------------------------------------------------------------------------
def citation_labels(clauses: Sequence[ClauseLike]) -> dict[int, str]:
    """Citation label of every clause, keyed by its id, in O(n).

    Regulations: "điểm đ khoản 4 Điều 7", "khoản 2 Điều 5", "Điều 5", "Mục 2 Chương III",
    "Chương II". A "-" paragraph is cited as the provision that holds it.
    Criteria tables: "mục I", "tiêu chí 1.1 mục I", "phần Điểm thưởng".
    """
    by_id = {c.id: c for c in clauses}
    labels: dict[int, str] = {}
    # Criteria codes repeat between groups ("1" under I and under II), so an item's label
    # names its top group; this holds that group's label per clause.
    groups: dict[int, str] = {}

    for clause in clauses:
        # Climb to the nearest labelled ancestor (iteratively: no recursion limit on deep
        # trees), then label the chain top-down; each clause is labelled once.
        chain: list[ClauseLike] = []
        current: ClauseLike | None = clause
        while current is not None and current.id not in labels:
            chain.append(current)
            parent_id = current.parent_id
            current = by_id.get(parent_id) if parent_id is not None else None
        for item in reversed(chain):
            parent_id = item.parent_id if item.parent_id in labels else None
            if str(item.kind) in CRITERIA_KINDS:
                labels[item.id], groups[item.id] = _criteria_label(
                    item, groups.get(parent_id) if parent_id is not None else None
                )
            else:
                labels[item.id] = _regulation_label(
                    item, labels[parent_id] if parent_id is not None else ""
                )
    return labels


def _regulation_label(clause: ClauseLike, parent_label: str) -> str:
    kind = str(clause.kind)
    if kind == "paragraph":
        return parent_label
    own = f"{CITATION_NAMES.get(kind, kind)} {(clause.number or '').strip()}".strip()
    if kind in CITATION_STOPS or not parent_label:
        return own
    return f"{own} {parent_label}"


def _criteria_label(clause: ClauseLike, group: str | None) -> tuple[str, str]:
    """(label, top group label) of a criteria row."""
    number = (clause.number or "").strip()
    if group is None:
        if str(clause.kind) == "criterion" and number:
            top = f"mục {number}"
        else:
            top = f"phần {(clause.title or '').strip() or number}".strip()
        return top, top
    own = f"tiêu chí {number}" if number else f"tiêu chí “{_short(clause.title or '')}”"
    return f"{own} {group}", group


def _short(text: str, words: int = 6) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


# --- conversions -------------------------------------------------------------------------
def to_diff_clauses(clauses: Sequence[ClauseLike]) -> list[DiffClause]:
    """Flatten a version for `drafts.diffing.diff_versions` (position = document order).

    For criteria rows the maximum and the guidance are part of the compared text, so a
    changed "Điểm chuẩn" or "Cách chấm" shows in the diff and the comparison table.
    """
    lineage_of = {c.id: c.lineage for c in clauses}
    labels = citation_labels(clauses)
    return [
        DiffClause(
            lineage=c.lineage,
            kind=str(c.kind),
            number=c.number or "",
            title=c.title or "",
            text=_diff_text(c),
            parent_lineage=lineage_of.get(c.parent_id) if c.parent_id is not None else None,
            position=position,
            label=labels[c.id],
        )
        for position, c in enumerate(clauses)
    ]


def _diff_text(clause: ClauseLike) -> str:
    if str(clause.kind) not in CRITERIA_KINDS:
        return clause.text or ""
    lines = [clause.text] if clause.text else []
    if clause.max_points is not None:
        lines.append(f"Điểm chuẩn: {format_points(clause.max_points)}")
    if clause.guidance:
        lines.append(f"Cách chấm: {clause.guidance}")
    return "\n".join(lines)


def format_points(value: Decimal | None) -> str:
    """Points as Vietnamese users write them: "60", "2,5"; "" for none."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f").replace(".", ",")


def to_nodes(roots: Sequence[TreeNode], *, keep_lineage: bool = True) -> list[dict[str, Any]]:
    """The nested node shape `drafts.operations.add_clauses` takes; used to copy a version."""

    def node(n: TreeNode) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": n.kind,
            "number": n.number,
            "title": n.title,
            "text": n.text,
            "max_points": n.max_points,
            "guidance": n.guidance,
            "children": [node(child) for child in n.children],
        }
        if keep_lineage:
            data["lineage"] = n.lineage
        return data

    return [node(root) for root in roots]


def flat_from_nodes(nodes: Sequence[Mapping[str, Any]]) -> list[FlatClause]:
    """Flatten parsed nodes (regulation or criteria shape) into ordered `FlatClause` rows
    with made-up ids, so a preview renders through the same tree and labels."""
    rows: list[FlatClause] = []
    stack: list[tuple[Mapping[str, Any], int | None, int]] = [(n, None, 0) for n in reversed(nodes)]
    while stack:
        node, parent_id, depth = stack.pop()
        points = node.get("max_points")
        row = FlatClause(
            id=len(rows) + 1,
            parent_id=parent_id,
            seq=len(rows),
            kind=str(node["kind"]),
            number=str(node.get("number", node.get("code", "")) or ""),
            title=node.get("title", "") or "",
            text=node.get("text", "") or "",
            max_points=Decimal(str(points)) if points is not None else None,
            guidance=node.get("guidance", "") or "",
            lineage=node.get("lineage", "") or "",
            depth=depth,
        )
        rows.append(row)
        stack.extend((child, row.id, depth + 1) for child in reversed(node.get("children", [])))
    return rows


def inherit_lineage(
    nodes: Sequence[Mapping[str, Any]], previous: Sequence[TreeNode]
) -> list[dict[str, Any]]:
    """Copy parsed `nodes`, giving each the lineage key of the previous version's clause
    with the same kind and citation ("khoản 2 Điều 5"), so an imported revision stays
    linked to the comments on the text it replaces. Unmatched nodes get none (a new key
    is minted when saved)."""
    old_keys: dict[tuple[str, str, int], str] = {}
    seen: dict[tuple[str, str], int] = {}
    for node in iter_tree(previous):
        key = (node.kind, node.label)
        seen[key] = seen.get(key, 0) + 1
        old_keys[(*key, seen[key])] = node.lineage
    flat = flat_from_nodes(nodes)
    labels = citation_labels(flat)
    found: list[str | None] = []
    seen.clear()
    for row in flat:
        key = (row.kind, labels[row.id])
        seen[key] = seen.get(key, 0) + 1
        found.append(old_keys.get((*key, seen[key])))
    position = iter(found)

    def copy(node: Mapping[str, Any]) -> dict[str, Any]:
        lineage = next(position)
        data = {k: v for k, v in node.items() if k != "children"}
        if lineage:
            data["lineage"] = lineage
        # Children after the parent: the same pre-order as flat_from_nodes.
        data["children"] = [copy(child) for child in node.get("children", [])]
        return data

    return [copy(node) for node in nodes]


_POINTS_TEXT = re.compile(r"^\d+(\.\d+)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


def parse_points(value: str | int | float | Decimal | None) -> Decimal | None:
    """Read a maximum as users type it: "2,5" (decimal comma), "1.000" (thousands), 10.

    Empty means no maximum (None); anything else unreadable raises ValueError with a
    Vietnamese message. At most two decimals, as stored.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        points = Decimal(value)
    elif isinstance(value, float):
        points = Decimal(str(value))
    else:
        text = "".join(str(value).split())
        if not text:
            return None
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        elif _THOUSANDS.match(text):
            text = text.replace(".", "")
        if not _POINTS_TEXT.match(text):
            raise ValueError(f"Điểm “{value}” không hợp lệ; hãy nhập một số, ví dụ 10 hoặc 2,5.")
        points = Decimal(text)
    if not points.is_finite() or points < 0:
        raise ValueError("Điểm phải là một số không âm.")
    if points >= Decimal("100000000"):
        raise ValueError("Điểm quá lớn.")
    if points != points.quantize(Decimal("0.01")):
        raise ValueError("Điểm chỉ được có tối đa hai chữ số thập phân.")
    return points


# --- renumbering -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Renumbering:
    """One number that "Đánh số lại" would change."""

    clause_id: int
    lineage: str
    kind: str
    old_number: str
    new_number: str
    old_label: str
    new_label: str


_ROMAN = re.compile(r"^[IVXLC]+$")
_DOTTED = re.compile(r"^\d+(\.\d+)+$")
_UPPER = re.compile(r"^[A-Z]$")
_LOWER = re.compile(r"^[a-zđ]$")
_ORDINALS = ["nhất", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười"]


def int_to_roman(value: int) -> str:
    table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ]
    out = []
    for amount, letters in table:
        while value >= amount:
            out.append(letters)
            value -= amount
    return "".join(out)


def vietnamese_letter(index: int) -> str:
    """0 → "a", 4 → "đ", 22 → "y", then "aa", "ab"… (a point list that long is rare)."""
    n = len(VIETNAMESE_LETTERS)
    if index < n:
        return VIETNAMESE_LETTERS[index]
    return vietnamese_letter(index // n - 1) + VIETNAMESE_LETTERS[index % n]


def renumber_plan(roots: Sequence[TreeNode]) -> list[Renumbering]:
    """What "Đánh số lại" changes, in document order (unchanged numbers are left out).

    Regulations: Điều and Chương run through the whole document, Phần too; Mục,
    Tiểu mục, khoản and điểm restart within their parent; điểm use the Vietnamese
    alphabet (or "1.1" outline numbering when that is the style in use). Criteria
    tables keep each code's style (I, 1, 1.1, a) and restart within their group.
    Lineage keys are never touched.
    """
    new_numbers = _new_numbers(roots)
    flat = list(iter_tree(roots))
    renamed = [_Renamed(n, new_numbers.get(n.id, n.number)) for n in flat]
    new_labels = citation_labels(renamed)
    return [
        Renumbering(
            clause_id=n.id,
            lineage=n.lineage,
            kind=n.kind,
            old_number=n.number,
            new_number=new_numbers[n.id],
            old_label=n.label,
            new_label=new_labels[n.id],
        )
        for n in flat
        if n.id in new_numbers and new_numbers[n.id] != n.number
    ]


@dataclass(slots=True)
class _Renamed:
    """A clause seen with its proposed number, to compute the new citation label."""

    node: TreeNode
    number: str

    @property
    def id(self) -> int:
        return self.node.id

    @property
    def parent_id(self) -> int | None:
        return self.node.parent.id if self.node.parent is not None else None

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def title(self) -> str:
        return self.node.title


def _new_numbers(roots: Sequence[TreeNode]) -> dict[int, str]:
    numbers: dict[int, str] = {}
    document_counters: dict[str, int] = {}

    def number_children(parent_number: str, children: Sequence[TreeNode]) -> None:
        local: dict[str, int] = {}
        for node in children:
            new = _next_number(node, parent_number, local, document_counters)
            if new is not None:
                numbers[node.id] = new
            number_children(numbers.get(node.id, node.number), node.children)

    number_children("", roots)
    return numbers


def _next_number(
    node: TreeNode, parent_number: str, local: dict[str, int], document: dict[str, int]
) -> str | None:
    kind, old = node.kind, node.number.strip()
    if kind in CRITERIA_KINDS:
        return _next_code(old, parent_number, local)
    if kind in ("article", "chapter", "part"):
        document[kind] = count = document.get(kind, 0) + 1
        if kind == "article":
            return str(count)
        if kind == "part" and old.lower().startswith("thứ"):
            return f"thứ {_ORDINALS[count - 1]}" if count <= len(_ORDINALS) else str(count)
        return int_to_roman(count)
    if kind in ("section", "subsection", "clause", "point"):
        local[kind] = count = local.get(kind, 0) + 1
        if kind == "point":
            if _DOTTED.match(old) and parent_number:
                return f"{parent_number}.{count}"
            return vietnamese_letter(count - 1)
        if kind == "section" and _ROMAN.match(old):
            return int_to_roman(count)
        return str(count)
    return None  # paragraphs ("-") carry no number


def _next_code(old: str, parent_code: str, local: dict[str, int]) -> str | None:
    if not old:
        return None
    style = (
        "roman"
        if _ROMAN.match(old)
        else "dotted"
        if _DOTTED.match(old)
        else "upper"
        if _UPPER.match(old)
        else "lower"
        if _LOWER.match(old)
        else "arabic"
        if old.isdigit()
        else None
    )
    if style is None:
        return None
    local[style] = count = local.get(style, 0) + 1
    if style == "roman":
        return int_to_roman(count)
    if style == "upper":
        return chr(ord("A") + count - 1) if count <= 26 else str(count)
    if style == "lower":
        return vietnamese_letter(count - 1)
    if style == "dotted" and re.match(r"^\d+(\.\d+)*$", parent_code or ""):
        return f"{parent_code}.{count}"
    return str(count)


# --- criteria tables ---------------------------------------------------------------------
def criteria_problems(roots: Sequence[TreeNode]) -> list[str]:
    """Every reason a criteria table cannot be adopted, as one list of Vietnamese lines.

    A group's maximum must equal the sum of its items' (not for bonus and deduction
    groups, whose cap is meant to be below the sum), every scored row needs a maximum,
    and the total of the normal criteria must be a positive whole number (100, 200…).
    """
    from drafts.criteria_parsing import check_criteria_sums

    problems = list(check_criteria_sums(roots))
    for node in iter_tree(roots):
        if node.kind == "criterion" and not node.children and node.max_points is None:
            problems.append(
                Note(
                    N_("Tiêu chí %(criterion)s chưa có điểm chuẩn."),
                    criterion=node.code or _short(node.title),
                )
            )
    total = criteria_total(roots)
    if total <= 0 or total != total.to_integral_value():
        problems.append(
            Note(
                N_(
                    "Tổng điểm chuẩn là %(total)s; tổng điểm phải là một số nguyên dương "
                    "(ví dụ 100, 200 hoặc 1.000)."
                ),
                total=format_points(total),
            )
        )
    return problems


def criteria_total(roots: Sequence[TreeNode]) -> Decimal:
    """The table's maximum: the sum of the top-level normal criteria (bonus and deduction
    rows are outside it)."""
    scored = [r.max_points for r in roots if r.kind == "criterion" and r.max_points is not None]
    return sum((Decimal(p) for p in scored), Decimal(0))
