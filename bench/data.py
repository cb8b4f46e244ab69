"""Benchmark data, written in bulk with SQLAlchemy Core (executemany), never row by row.

Ids are chosen here, so rows can point at each other before they are written: a
whole clause tree, its comments and their dispositions go in as a handful of
`INSERT … VALUES` batches. Text is Vietnamese and shaped like the real documents:
Chương → Điều → Khoản → Điểm, comments per clause and general comments, answers
per comment, criteria with points and three score columns per sheet.

Three sizes live side by side in one database:

* ``large``: a 300-article regulation in 3 versions with 3,000 comments from the
  invited units, and a 100-criterion table scored by 30 units at all three stages;
* ``small``: the same shapes with 10 clauses, a few comments, 3 units × 10 criteria,
  so a page's SQL statement count can be compared between the two sizes;
* ``live``: an open consultation and a period waiting for verification, which the
  load runs write to.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select, text
from werkzeug.security import generate_password_hash

from extensions import db
from workflow.models import review_flags_update

PASSWORD = "bench-mat-khau-2026"
# Few iterations: the bench logs in a handful of times and must not spend its time hashing.
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
YEAR = 2026
BATCH = 5000

# --- Vietnamese text ----------------------------------------------------------------------
SUBJECTS = (
    "Các đơn vị",
    "Thủ trưởng đơn vị",
    "Cụm trưởng, Khối trưởng",
    "Văn phòng Viện kiểm sát nhân dân tỉnh",
    "Thường trực Hội đồng Thi đua - Khen thưởng",
    "Cán bộ, công chức, người lao động",
    "Viện kiểm sát nhân dân khu vực",
    "Phòng nghiệp vụ được giao chủ trì",
)
VERBS = (
    "có trách nhiệm thực hiện",
    "chủ động phối hợp trong",
    "tổ chức triển khai",
    "báo cáo kết quả",
    "kiểm tra, đôn đốc việc thực hiện",
    "xây dựng kế hoạch về",
    "tổng hợp, đánh giá",
    "bảo đảm chất lượng",
)
OBJECTS = (
    "công tác thi đua, khen thưởng",
    "việc tự chấm điểm theo bảng tiêu chí",
    "chế độ thông tin, báo cáo định kỳ",
    "việc lấy ý kiến góp ý dự thảo văn bản",
    "công tác thực hành quyền công tố và kiểm sát điều tra",
    "việc sơ kết, tổng kết phong trào thi đua",
    "công tác kiểm sát giải quyết các vụ việc dân sự",
    "việc quản lý hồ sơ, tài liệu nghiệp vụ",
    "công tác giải quyết khiếu nại, tố cáo",
    "việc ứng dụng công nghệ thông tin",
)
TAILS = (
    "theo quy định của pháp luật.",
    "trước ngày 30 tháng 11 hằng năm.",
    "đúng thời hạn và bảo đảm chất lượng.",
    "bảo đảm công khai, minh bạch, dân chủ.",
    "và chịu trách nhiệm trước Viện trưởng.",
    "theo hướng dẫn của Văn phòng.",
    "trong phạm vi chức năng, nhiệm vụ được giao.",
)
ARTICLE_TITLES = (
    "Phạm vi điều chỉnh",
    "Đối tượng áp dụng",
    "Nguyên tắc tổ chức",
    "Nhiệm vụ của Cụm trưởng",
    "Quyền hạn của Khối trưởng",
    "Chế độ sinh hoạt Cụm",
    "Hồ sơ đề nghị khen thưởng",
    "Trình tự chấm điểm",
    "Thẩm định kết quả",
    "Xếp loại thi đua",
    "Kinh phí thực hiện",
    "Trách nhiệm thi hành",
)
CHAPTER_TITLES = (
    "QUY ĐỊNH CHUNG",
    "TỔ CHỨC CỤM, KHỐI THI ĐUA",
    "NHIỆM VỤ, QUYỀN HẠN",
    "CHẤM ĐIỂM, XẾP LOẠI",
    "KHEN THƯỞNG",
    "KINH PHÍ",
    "KIỂM TRA, GIÁM SÁT",
    "XỬ LÝ VI PHẠM",
    "QUAN HỆ PHỐI HỢP",
    "ĐIỀU KHOẢN THI HÀNH",
)
COMMENT_OPENINGS = (
    "Đề nghị sửa cụm từ",
    "Đề nghị bổ sung quy định về",
    "Đề nghị làm rõ nội dung",
    "Đề nghị cân nhắc bỏ quy định về",
    "Thống nhất về nguyên tắc, nhưng đề nghị viết lại",
    "Đề nghị quy định cụ thể thời hạn đối với",
    "Đề nghị thay thế quy định về",
)
EXPLANATIONS = {
    "tiep_thu": "Tiếp thu, đã chỉnh sửa tại dự thảo lần sau.",
    "tiep_thu_mot_phan": "Tiếp thu một phần; giữ nguyên thời hạn vì phù hợp với quy chế chung.",
    "khong_tiep_thu": "Không tiếp thu vì nội dung này đã được quy định tại Điều 3 của dự thảo.",
    "giai_trinh": "Giải trình: quy định này thống nhất với hướng dẫn của Viện kiểm sát cấp trên.",
}
DECISIONS = ("tiep_thu", "tiep_thu_mot_phan", "khong_tiep_thu", "giai_trinh")
DECISION_WEIGHTS = (45, 15, 20, 20)
VIETNAMESE_LETTERS = "abcdđeghiklmnopqrstuvxy"


def roman(value: int) -> str:
    numerals = (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    )  # fmt: skip
    out = []
    for number, letters in numerals:
        while value >= number:
            out.append(letters)
            value -= number
    return "".join(out)


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}"


def comment_text(rng: random.Random, label: str) -> str:
    days = rng.randint(3, 15)
    return (
        f"{rng.choice(COMMENT_OPENINGS)} {rng.choice(OBJECTS)} tại {label}"
        f" theo hướng rút ngắn thời hạn còn {days} ngày làm việc; {rng.choice(TAILS)}"
    )


# --- bulk writing -------------------------------------------------------------------------
def table(name: str) -> Table:
    return db.metadata.tables[name]


class Writer:
    """Bulk inserts with ids allocated here (one query per table for the starting id)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._next: dict[str, int] = {}

    def ids(self, name: str, count: int) -> list[int]:
        if name not in self._next:
            current = self.conn.scalar(select(func.max(table(name).c.id))) or 0
            self._next[name] = current + 1
        start = self._next[name]
        self._next[name] = start + count
        return list(range(start, start + count))

    def id(self, name: str) -> int:
        return self.ids(name, 1)[0]

    def insert(self, name: str, rows: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            self.conn.execute(table(name).insert(), list(rows[start : start + BATCH]))


def reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move each id sequence past the ids written here, so the app can insert."""
    if conn.dialect.name != "postgresql":
        return
    for name, tbl in db.metadata.tables.items():
        if "id" not in tbl.c or not tbl.c.id.primary_key:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{name}"), 0) + 1, false)'
            )
        )


def lineage() -> str:
    return uuid.uuid4().hex


def token_secret(username: str) -> str:
    return f"dft_bench_{username.replace('.', '_')}_{secrets.token_urlsafe(12)}"


# --- the organisation ---------------------------------------------------------------------
@dataclass
class Org:
    unit_ids: dict[str, int]  # by short name
    unit_names: dict[int, str]
    user_ids: dict[str, int]  # by username
    tokens: dict[str, str]  # username -> bearer token
    group_ids: dict[str, int]  # by group name
    unit_group: dict[int, int]  # unit id -> group id
    year_id: int

    def head(self, short: str) -> str:
        return f"{short.lower()}.truong"

    def staff(self, short: str) -> str:
        return f"{short.lower()}.canbo"

    @property
    def invited_shorts(self) -> list[str]:
        """Every unit but the drafting office."""
        return [short for short in self.unit_ids if short != "VP"]


UNIT_SPECS: list[tuple[str, str, str]] = [
    ("VP", "Văn phòng", "office"),
    ("TT", "Thanh tra", "inspection"),
    *[(f"P{n}", f"Phòng {n}", "department") for n in range(1, 9)],
    *[(f"KV{n}", f"Viện kiểm sát nhân dân khu vực {n}", "regional") for n in range(1, 21)],
]
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Minh", "Đức", "Thu", "Quang", "Ngọc", "Hữu")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long")


def build_org(w: Writer, rng: random.Random, now: datetime) -> Org:
    unit_ids = dict(
        zip((s for s, _, _ in UNIT_SPECS), w.ids("units", len(UNIT_SPECS)), strict=True)
    )
    w.insert(
        "units",
        [
            {
                "id": unit_ids[short],
                "name": name,
                "short_name": short,
                "kind": kind,
                "email": f"{short.lower()}@vks.local",
                "active": True,
                "created_at": now,
            }
            for short, name, kind in UNIT_SPECS
        ],
    )
    users: list[tuple[str, str, str, list[str]]] = [
        ("quantri", "VP", "Quản trị hệ thống", ["admin"]),
        ("soanthao", "VP", "Cán bộ soạn thảo", ["drafter"]),
        ("thamdinh", "VP", "Thường trực Hội đồng", ["office_verifier"]),
        ("hoidong", "VP", "Thành viên Hội đồng", ["council_member"]),
    ]
    for short, _name, _kind in UNIT_SPECS:
        users.append((f"{short.lower()}.truong", short, "Thủ trưởng", ["unit_head"]))
        users.append((f"{short.lower()}.canbo", short, "Cán bộ", ["unit_staff"]))
    user_ids = dict(zip((u[0] for u in users), w.ids("users", len(users)), strict=True))
    w.insert(
        "users",
        [
            {
                "id": user_ids[username],
                "username": username,
                "full_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
                f" ({title} {short})",
                "email": f"{username}@vks.local",
                "unit_id": unit_ids[short],
                "password_hash": _PASSWORD_HASH,
                "active": True,
                "notify_mode": "immediate",
                "created_at": now,
            }
            for username, short, title, _roles in users
        ],
    )
    w.insert(
        "user_roles",
        [{"user_id": user_ids[u], "role": r} for u, _s, _t, roles in users for r in roles],
    )
    tokens = {username: token_secret(username) for username, *_ in users}
    token_ids = w.ids("api_tokens", len(tokens))
    w.insert(
        "api_tokens",
        [
            {
                "id": token_id,
                "user_id": user_ids[username],
                "name": "bench",
                "token_hash": hashlib.sha256(secret.encode()).hexdigest(),
                "prefix": secret[:10],
                # The load run reads, comments and saves scores through the API.
                "scopes": "read comment score",
                "created_at": now,
            }
            for token_id, (username, secret) in zip(token_ids, tokens.items(), strict=True)
        ],
    )
    year_id = w.id("emulation_years")
    w.insert(
        "emulation_years",
        [
            {
                "id": year_id,
                "year": YEAR,
                "starts_on": datetime(YEAR - 1, 12, 1).date(),
                "ends_on": datetime(YEAR, 11, 30).date(),
            }
        ],
    )
    # Four Cụm of five regional units, two Khối of five office units.
    regional = [s for s, _, k in UNIT_SPECS if k == "regional"]
    offices = [s for s, _, k in UNIT_SPECS if k != "regional"]
    groups = [(f"Cụm thi đua số {i + 1}", "cluster", regional[i * 5 : i * 5 + 5]) for i in range(4)]
    groups += [(f"Khối thi đua số {i + 1}", "block", offices[i * 5 : i * 5 + 5]) for i in range(2)]
    group_ids = dict(zip((g[0] for g in groups), w.ids("groups", len(groups)), strict=True))
    w.insert(
        "groups",
        [{"id": group_ids[n], "year_id": year_id, "kind": k, "name": n} for n, k, _ in groups],
    )
    memberships = []
    unit_group: dict[int, int] = {}
    for name, _kind, members in groups:
        for index, short in enumerate(members):
            role = ("leader", "deputy")[index] if index < 2 else "member"
            unit_group[unit_ids[short]] = group_ids[name]
            memberships.append(
                {
                    "group_id": group_ids[name],
                    "year_id": year_id,
                    "unit_id": unit_ids[short],
                    "role": role,
                }
            )
    for row, row_id in zip(memberships, w.ids("group_memberships", len(memberships)), strict=True):
        row["id"] = row_id
    w.insert("group_memberships", memberships)
    return Org(
        unit_ids=unit_ids,
        unit_names={unit_ids[s]: n for s, n, _ in UNIT_SPECS},
        user_ids=user_ids,
        tokens=tokens,
        group_ids=group_ids,
        unit_group=unit_group,
        year_id=year_id,
    )


# --- clause trees -------------------------------------------------------------------------
@dataclass
class Node:
    """A clause before it has a database id; `parent` indexes the same flat list."""

    kind: str
    number: str
    title: str
    text: str
    parent: int | None
    depth: int
    lineage: str = field(default_factory=lineage)
    max_points: Decimal | None = None
    guidance: str = ""


@dataclass(frozen=True)
class TreeShape:
    chapters: int
    articles_per_chapter: int
    clauses_per_article: int
    points_per_clause: int  # on the second Khoản of each Điều


LARGE_TREE = TreeShape(
    chapters=10, articles_per_chapter=30, clauses_per_article=3, points_per_clause=3
)
# 1 Chương, 3 Điều, 2 Khoản each: 10 clauses.
SMALL_TREE = TreeShape(
    chapters=1, articles_per_chapter=3, clauses_per_article=2, points_per_clause=0
)


def regulation_nodes(rng: random.Random, shape: TreeShape) -> list[Node]:
    """A regulation in document order: Chương → Điều → Khoản → Điểm."""
    nodes: list[Node] = []
    article = 0
    for c in range(shape.chapters):
        chapter = len(nodes)
        nodes.append(
            Node("chapter", roman(c + 1), CHAPTER_TITLES[c % len(CHAPTER_TITLES)], "", None, 0)
        )
        for _ in range(shape.articles_per_chapter):
            article += 1
            art = len(nodes)
            title = f"{ARTICLE_TITLES[article % len(ARTICLE_TITLES)]} ({article})"
            nodes.append(Node("article", str(article), title, "", chapter, 1))
            for k in range(shape.clauses_per_article):
                khoan = len(nodes)
                with_points = k == 1 and shape.points_per_clause > 0
                body = sentence(rng)
                if with_points:
                    body = body.rstrip(".") + ", gồm các nội dung sau:"
                nodes.append(Node("clause", str(k + 1), "", body, art, 2))
                if with_points:
                    for p in range(shape.points_per_clause):
                        letter = VIETNAMESE_LETTERS[p]
                        nodes.append(Node("point", letter, "", sentence(rng), khoan, 3))
    return nodes


def revise(rng: random.Random, nodes: list[Node], change: set[str], added: int) -> list[Node]:
    """The next version: same lineages, the texts of `change` rewritten, a few Khoản
    added ("1a.", as amendments number them) and a few Điểm dropped."""
    out: list[Node] = []
    index_map: dict[int, int] = {}
    leaves = [i for i, n in enumerate(nodes) if n.kind == "point"]
    dropped = set(rng.sample(leaves, min(len(leaves) // 40, len(leaves))))
    add_after = set(rng.sample([i for i, n in enumerate(nodes) if n.kind == "clause"], added))
    for i, node in enumerate(nodes):
        if i in dropped or (node.parent is not None and node.parent not in index_map):
            continue
        text_ = node.text
        if node.lineage in change and text_:
            text_ = text_.rstrip(".:") + f", {rng.choice(TAILS)}"
        index_map[i] = len(out)
        parent = index_map.get(node.parent) if node.parent is not None else None
        out.append(
            Node(node.kind, node.number, node.title, text_, parent, node.depth, node.lineage)
        )
        if i in add_after:
            out.append(Node("clause", f"{node.number}a", "", sentence(rng), parent, node.depth))
    return out


def citation(nodes: Sequence[Node], index: int) -> str:
    node = nodes[index]
    names = {"article": "Điều", "clause": "khoản", "point": "điểm", "chapter": "Chương"}
    own = f"{names[node.kind]} {node.number}"
    if node.kind in ("article", "chapter") or node.parent is None:
        return own
    return f"{own} {citation(nodes, node.parent)}"


def write_version(
    w: Writer,
    *,
    draft_id: int,
    number: int,
    nodes: Sequence[Node],
    author_id: int,
    created: datetime,
    based_on: int | None,
) -> tuple[int, list[int]]:
    version_id = w.id("versions")
    w.insert(
        "versions",
        [
            {
                "id": version_id,
                "draft_id": draft_id,
                "number": number,
                "status": "published",
                "based_on_id": based_on,
                "source_filename": None,
                "note": "" if number == 1 else "Chỉnh lý theo ý kiến góp ý",
                "created_by_id": author_id,
                "created_at": created,
                "published_at": created,
                "lock_version": 1,
            }
        ],
    )
    clause_ids = w.ids("clauses", len(nodes))
    w.insert(
        "clauses",
        [
            {
                "id": clause_ids[i],
                "version_id": version_id,
                "parent_id": clause_ids[n.parent] if n.parent is not None else None,
                "seq": i,
                "depth": n.depth,
                "kind": n.kind,
                "number": n.number,
                "title": n.title,
                "text": n.text,
                "max_points": n.max_points,
                "guidance": n.guidance,
                "lineage": n.lineage,
            }
            for i, n in enumerate(nodes)
        ],
    )
    return version_id, clause_ids


# --- drafts and consultations -------------------------------------------------------------
@dataclass
class DraftSet:
    """What the bench needs to find one generated draft again."""

    draft_id: int
    version_ids: list[int]
    consultation_ids: list[int]
    clauses: int  # in the latest version
    comments: int  # over all rounds
    invited: int
    sample_comments: list[str] = field(default_factory=list)
    sample_clauses: list[str] = field(default_factory=list)

    @property
    def consultation_id(self) -> int:
        """The round being consolidated: the latest one."""
        return self.consultation_ids[-1]


@dataclass(frozen=True)
class DraftSpec:
    title: str
    shape: TreeShape
    versions: int
    comments_per_round: tuple[int, ...]  # one round per version, from the first
    invited: int  # units invited (after the drafting office)
    live: bool = False  # the last round is open and nothing is submitted yet


def _invited(org: Org, count: int) -> list[str]:
    shorts = org.invited_shorts
    # Small sets use regional units (they share a Cụm, like the tests' fixtures).
    regional = [s for s in shorts if s.startswith("KV")]
    return regional[:count] if count <= len(regional) else shorts[:count]


def build_draft(
    w: Writer, rng: random.Random, org: Org, spec: DraftSpec, now: datetime
) -> DraftSet:
    drafter = org.user_ids["soanthao"]
    draft_id = w.id("drafts")
    rounds = len(spec.comments_per_round)
    w.insert(
        "drafts",
        [
            {
                "id": draft_id,
                "title": spec.title,
                "kind": "regulation",
                "state": "consulting" if spec.live else "revised",
                "drafting_unit_id": org.unit_ids["VP"],
                "created_by_id": drafter,
                "created_at": now - timedelta(days=60),
            }
        ],
    )
    w.insert(
        "draft_drafters", [{"id": w.id("draft_drafters"), "draft_id": draft_id, "user_id": drafter}]
    )
    invited = _invited(org, spec.invited)
    versions: list[tuple[int, list[int], list[Node]]] = []
    nodes = regulation_nodes(rng, spec.shape)
    consultation_ids: list[int] = []
    total_comments = 0
    samples: list[str] = []
    answered: _Round | None = None  # the latest round, which later versions answer
    for number in range(1, spec.versions + 1):
        created = now - timedelta(days=60 - 15 * number)
        version_id, clause_ids = write_version(
            w,
            draft_id=draft_id,
            number=number,
            nodes=nodes,
            author_id=drafter,
            created=created,
            based_on=versions[-1][0] if versions else None,
        )
        versions.append((version_id, clause_ids, nodes))
        if answered is not None and answered.changed:
            _write_change_links(w, answered, nodes, clause_ids, drafter, created)
        if number <= rounds:
            answered = _build_round(
                w,
                rng,
                org,
                draft_id=draft_id,
                version_id=version_id,
                round_number=number,
                nodes=nodes,
                clause_ids=clause_ids,
                invited=invited,
                comments=spec.comments_per_round[number - 1],
                opens=created + timedelta(days=1),
                live=spec.live and number == rounds,
                now=now,
            )
            consultation_ids.append(answered.consultation_id)
            total_comments += answered.count
            samples.extend(answered.samples)
        if number < spec.versions:
            # Each revision rewrites half of the clauses whose accepted comments no
            # earlier revision answered yet, and links them to those comments.
            change: set[str] = set()
            if answered is not None:
                waiting = sorted(set(answered.accepted_by_lineage) - answered.done)
                change = set(rng.sample(waiting, (len(waiting) + 1) // 2))
                answered.changed, answered.done = change, answered.done | change
            nodes = revise(rng, nodes, change, added=len(nodes) // 100)
    last_nodes = versions[-1][2]
    return DraftSet(
        draft_id=draft_id,
        version_ids=[v[0] for v in versions],
        consultation_ids=consultation_ids,
        clauses=len(last_nodes),
        comments=total_comments,
        invited=len(invited),
        sample_comments=samples,
        sample_clauses=[n.text for n in last_nodes if n.text][:: max(1, len(last_nodes) // 8)],
    )


@dataclass
class _Round:
    draft_id: int
    consultation_id: int
    version_number: int
    count: int
    samples: list[str]
    # lineage -> ids of the accepted comments on it
    accepted_by_lineage: dict[str, list[int]] = field(default_factory=dict)
    # lineages the next version rewrote to answer those comments, and all answered so far
    changed: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)


def _write_change_links(
    w: Writer,
    round_: _Round,
    nodes: Sequence[Node],
    clause_ids: Sequence[int],
    actor: int,
    at: datetime,
) -> None:
    by_lineage = {n.lineage: clause_ids[i] for i, n in enumerate(nodes)}
    rows = [
        {"clause_id": by_lineage[lin], "comment_id": cid, "created_by_id": actor, "created_at": at}
        for lin in sorted(round_.changed)
        if lin in by_lineage
        for cid in round_.accepted_by_lineage.get(lin, [])
    ]
    for row, row_id in zip(rows, w.ids("change_links", len(rows)), strict=True):
        row["id"] = row_id
    w.insert("change_links", rows)


def _build_round(
    w: Writer,
    rng: random.Random,
    org: Org,
    *,
    draft_id: int,
    version_id: int,
    round_number: int,
    nodes: Sequence[Node],
    clause_ids: Sequence[int],
    invited: Sequence[str],
    comments: int,
    opens: datetime,
    live: bool,
    now: datetime,
) -> _Round:
    """One round: every invited unit's response, its comments, and (closed rounds) the
    drafter's answer to each comment."""
    drafter = org.user_ids["soanthao"]
    consultation_id = w.id("consultations")
    closes = now + timedelta(days=10) if live else opens + timedelta(days=10)
    if live:
        opens = now - timedelta(days=2)
    w.insert(
        "consultations",
        [
            {
                "id": consultation_id,
                "draft_id": draft_id,
                "version_id": version_id,
                "round_number": round_number,
                "opens_at": opens,
                "closes_at": closes,
                "visibility": "blind",
                "letter_number": f"{100 + round_number}/VKS-VP",
                "letter_text": "Văn phòng đề nghị các đơn vị nghiên cứu, góp ý dự thảo.",
                "created_by_id": drafter,
                "created_at": opens,
                "closed_at": None if live else closes,
            }
        ],
    )
    response_ids = dict(zip(invited, w.ids("unit_responses", len(invited)), strict=True))
    # Closed rounds: two units agree without comments, one never answered, the rest
    # submitted comments (one of them late). Live rounds: everyone is still writing.
    agreeing = set(invited[-3:-1]) if len(invited) > 4 and not live else set()
    silent = {invited[-1]} if len(invited) > 4 and not live else set()
    commenting = [s for s in invited if s not in agreeing | silent]
    responses = []
    for index, short in enumerate(invited):
        submitted = not live and short not in silent
        late = submitted and index == 0 and len(invited) > 4
        at = closes + timedelta(days=1) if late else closes - timedelta(days=1 + index % 5)
        responses.append(
            {
                "id": response_ids[short],
                "consultation_id": consultation_id,
                "unit_id": org.unit_ids[short],
                "status": "submitted" if submitted else ("drafting" if live else "not_started"),
                "agrees_without_comments": short in agreeing,
                "deadline_override": None,
                "due_at": closes,
                "submitted_at": at if submitted else None,
                "submitted_by_id": org.user_ids[org.head(short)] if submitted else None,
                "lock_version": 1,
            }
        )
    w.insert("unit_responses", responses)
    if not live:
        w.insert(
            "position_submissions",
            [
                {
                    "id": sid,
                    "response_id": r["id"],
                    "action": "submit",
                    "at": r["submitted_at"],
                    "by_id": r["submitted_by_id"],
                    "agrees_without_comments": r["agrees_without_comments"],
                    "late": r["submitted_at"] > closes,
                    "snapshot": [],
                }
                for r, sid in zip(
                    [r for r in responses if r["submitted_at"]],
                    w.ids("position_submissions", sum(1 for r in responses if r["submitted_at"])),
                    strict=True,
                )
            ],
        )
    # Comments, spread over Điều, Khoản and Điểm and the general group.
    targets = [i for i, n in enumerate(nodes) if n.kind in ("article", "clause", "point")]
    comment_ids = w.ids("comments", comments)
    rows = []
    for n, cid in enumerate(comment_ids):
        short = commenting[n % len(commenting)] if commenting else invited[0]
        # Comment 1 is always general, so even the smallest round has one of each kind.
        general = n == 1 or rng.random() < 0.08
        idx = None if general else rng.choice(targets)
        label = "Ý kiến chung về dự thảo" if idx is None else citation(nodes, idx)
        body = comment_text(rng, label.lower() if idx is None else label)
        created = opens + timedelta(hours=1 + n % 200)
        rows.append(
            {
                "id": cid,
                "consultation_id": consultation_id,
                "draft_id": draft_id,
                "response_id": response_ids[short],
                "unit_id": org.unit_ids[short],
                "clause_id": clause_ids[idx] if idx is not None else None,
                "lineage": nodes[idx].lineage if idx is not None else None,
                "author_id": org.user_ids[org.staff(short)],
                "text": body,
                "search_text": body.lower(),
                "source": "written",
                "meeting_date": None,
                "meeting_form": "",
                "created_at": created,
                "updated_at": created,
                "disposition_id": None,
                "lock_version": 1,
            }
        )
    accepted_by_lineage: dict[str, list[int]] = {}
    if not live and rows:
        disposition_ids = w.ids("dispositions", len(rows))
        dispositions = []
        for n, (row, did) in enumerate(zip(rows, disposition_ids, strict=True)):
            # The first answer accepts, so even the smallest round leads to a change.
            decision = "tiep_thu" if n == 0 else rng.choices(DECISIONS, DECISION_WEIGHTS)[0]
            row["disposition_id"] = did
            dispositions.append(
                {
                    "id": did,
                    "consultation_id": consultation_id,
                    "decision": decision,
                    "explanation": EXPLANATIONS[decision],
                    "decided_by_id": drafter,
                    "decided_at": closes + timedelta(days=2),
                    "lock_version": 1,
                }
            )
            if decision == "tiep_thu" and row["lineage"]:
                accepted_by_lineage.setdefault(row["lineage"], []).append(row["id"])
        w.insert("dispositions", dispositions)
    w.insert("comments", rows)
    return _Round(
        draft_id=draft_id,
        consultation_id=consultation_id,
        version_number=round_number,
        count=len(rows),
        samples=[r["text"] for r in rows[:: max(1, len(rows) // 6)]],
        accepted_by_lineage=accepted_by_lineage,
    )


# --- criteria and scoring -----------------------------------------------------------------
@dataclass
class PeriodSet:
    period_id: int
    criteria_draft_id: int
    criteria_version_id: int
    sheet_ids: list[int]
    unit_ids: list[int]
    leaf_lineages: list[str]
    criteria: int
    sample_units: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CriteriaShape:
    groups: int
    leaves_per_group: int  # leaves carry points; a group's maximum is their sum


LARGE_CRITERIA = CriteriaShape(groups=5, leaves_per_group=19)  # 100 criterion rows
SMALL_CRITERIA = CriteriaShape(groups=2, leaves_per_group=4)  # 10 criterion rows

CRITERION_TEXTS = (
    "Giải quyết tố giác, tin báo về tội phạm đạt tỷ lệ trên 90%",
    "Không có trường hợp đình chỉ do bị can không phạm tội",
    "Kiểm sát 100% các quyết định tạm giữ, tạm giam",
    "Tỷ lệ kháng nghị phúc thẩm được chấp nhận đạt trên 70%",
    "Thực hiện đúng chế độ thông tin, báo cáo",
    "Hồ sơ kiểm sát được lập đầy đủ, đúng quy định",
    "Tổ chức phiên tòa rút kinh nghiệm theo chỉ tiêu",
)


def criteria_nodes(shape: CriteriaShape) -> list[Node]:
    nodes: list[Node] = []
    for g in range(shape.groups):
        group = len(nodes)
        leaf_points = [Decimal(2)] * (shape.leaves_per_group - 1) + [Decimal(4)]
        nodes.append(
            Node(
                "criterion",
                roman(g + 1),
                f"Nhóm tiêu chí {roman(g + 1)}: công tác nghiệp vụ số {g + 1}",
                "",
                None,
                0,
                max_points=sum(leaf_points, Decimal(0)),
            )
        )
        for i, points in enumerate(leaf_points):
            nodes.append(
                Node(
                    "criterion",
                    f"{g + 1}.{i + 1}",
                    f"{CRITERION_TEXTS[(g + i) % len(CRITERION_TEXTS)]} (mục {g + 1}.{i + 1})",
                    "",
                    group,
                    1,
                    max_points=points,
                    guidance="Thiếu 1% trừ 0,5 điểm",
                )
            )
    nodes.append(Node("bonus", "", "Điểm thưởng", "", None, 0, max_points=Decimal(10)))
    nodes.append(Node("deduction", "", "Điểm trừ", "", None, 0, guidance="Trừ 5 điểm mỗi vụ"))
    return nodes


DEFAULT_STEPS = ["self", "cluster", "office", "council"]
STEP_REVIEWERS = {"cluster": "group", "office": "office", "council": "council"}


def build_criteria(
    w: Writer, org: Org, shape: CriteriaShape, now: datetime, title: str
) -> tuple[int, int, list[Node]]:
    drafter = org.user_ids["soanthao"]
    draft_id = w.id("drafts")
    nodes = criteria_nodes(shape)
    w.insert(
        "drafts",
        [
            {
                "id": draft_id,
                "title": title,
                "kind": "criteria",
                "state": "adopted",
                "drafting_unit_id": org.unit_ids["VP"],
                "created_by_id": drafter,
                "created_at": now - timedelta(days=300),
                "decision_number": "125/QĐ-VKS",
                "decision_date": (now - timedelta(days=280)).date(),
                "signer_name": "Nguyễn Văn Viện",
                "adopted_at": now - timedelta(days=280),
            }
        ],
    )
    w.insert(
        "draft_drafters", [{"id": w.id("draft_drafters"), "draft_id": draft_id, "user_id": drafter}]
    )
    version_id, _ = write_version(
        w, draft_id=draft_id, number=1, nodes=nodes, author_id=drafter,
        created=now - timedelta(days=290), based_on=None,
    )  # fmt: skip
    w.conn.execute(
        table("drafts").update().where(table("drafts").c.id == draft_id),
        {"adopted_version_id": version_id},
    )
    return draft_id, version_id, nodes


def build_period(
    w: Writer,
    rng: random.Random,
    org: Org,
    *,
    name: str,
    criteria: tuple[int, int, list[Node]],
    units: Sequence[str],
    state: str,
    now: datetime,
) -> PeriodSet:
    """A period on an adopted table; every sheet in `state` with the score columns that
    state implies (self; + cluster; + verified)."""
    draft_id, version_id, nodes = criteria
    period_id = w.id("scoring_periods")
    w.insert(
        "scoring_periods",
        [
            {
                "id": period_id,
                "name": name,
                "year_id": org.year_id,
                "criteria_draft_id": draft_id,
                "criteria_version_id": version_id,
                "steps_config": DEFAULT_STEPS,
                "step_reviewers": STEP_REVIEWERS,
                "bands_config": {},
                "disqualifiers": ["Để xảy ra tham nhũng", "Cán bộ bị kỷ luật từ cảnh cáo trở lên"],
                "bonus_cap": Decimal(10),
                "created_by_id": org.user_ids["thamdinh"],
                "created_at": now - timedelta(days=30),
            }
        ],
    )
    due = {"self": -20, "cluster": -10, "office": 5, "council": 15}
    if state == "cluster_scored":
        due = {"self": -10, "cluster": -3, "office": 7, "council": 20}
    w.insert(
        "scoring_period_deadlines",
        [
            {"id": did, "period_id": period_id, "step_key": key, "due_at": now + timedelta(days=d)}
            for did, (key, d) in zip(w.ids("scoring_period_deadlines", 4), due.items(), strict=True)
        ],
    )
    stages = {"submitted": 1, "cluster_scored": 2, "verified": 3, "approved": 3}[state]
    pending = {"submitted": "cluster", "cluster_scored": "office", "verified": "council"}.get(state)
    unit_ids = [org.unit_ids[s] for s in units]
    sheet_ids = w.ids("score_sheets", len(units))
    w.insert(
        "score_sheets",
        [
            {
                "id": sid,
                "period_id": period_id,
                "unit_id": uid,
                "group_id": org.unit_group.get(uid),
                "state": state,
                "due_at": now + timedelta(days=due[pending]) if pending else None,
                "disqualifier": None,
                "disqualification_note": "",
                "created_at": now - timedelta(days=30),
                "lock_version": 1,
            }
            for sid, uid in zip(sheet_ids, unit_ids, strict=True)
        ],
    )
    leaves = [n for n in nodes if n.kind == "criterion" and n.parent is not None]
    scores = []
    for sid in sheet_ids:
        for leaf in leaves:
            value = leaf.max_points or Decimal(0)
            for stage in ("self", "cluster", "verified")[:stages]:
                if rng.random() < 0.2:
                    value = max(Decimal(0), value - Decimal("0.5"))
                scores.append(
                    {
                        "sheet_id": sid,
                        "lineage": leaf.lineage,
                        "stage": stage,
                        "value": value,
                        "note": "",
                        "updated_by_id": None,
                        "updated_at": now - timedelta(days=10),
                        "lock_version": 1,
                    }
                )
    for row, row_id in zip(scores, w.ids("scores", len(scores)), strict=True):
        row["id"] = row_id
    w.insert("scores", scores)
    # Every third unit claims a bonus in its self-score; later columns carry it over.
    items, item_scores = [], []
    for sid in sheet_ids[::3]:
        key = f"adj-{sid:028x}"
        items.append(
            {
                "sheet_id": sid,
                "key": key,
                "kind": "bonus",
                "lineage": None,
                "reason": "Có sáng kiến được Viện kiểm sát tỉnh công nhận",
                "stage": "self",
                "created_by_id": None,
                "created_at": now - timedelta(days=12),
            }
        )
        item_scores.append(
            {
                "sheet_id": sid,
                "lineage": key,
                "stage": "self",
                "value": Decimal("2.5"),
                "note": "Có sáng kiến được Viện kiểm sát tỉnh công nhận",
                "updated_by_id": None,
                "updated_at": now - timedelta(days=12),
                "lock_version": 1,
            }
        )
    for row, row_id in zip(items, w.ids("score_adjustments", len(items)), strict=True):
        row["id"] = row_id
    w.insert("score_adjustments", items)
    for row, row_id in zip(item_scores, w.ids("scores", len(item_scores)), strict=True):
        row["id"] = row_id
    w.insert("scores", item_scores)
    w.conn.execute(review_flags_update(sheet_ids))
    path = [("start", "not_started", "self_scoring"), ("submit", "self_scoring", "submitted")]
    path += [("review", "submitted", "cluster_scored"), ("verify", "cluster_scored", "verified")]
    path = path[: {"submitted": 2, "cluster_scored": 3, "verified": 4, "approved": 4}[state]]
    transitions = [
        {
            "sheet_id": sid,
            "at": now - timedelta(days=25 - 5 * step),
            "actor_id": None,
            "action": action,
            "source": source,
            "target": target,
            "note": None,
        }
        for sid in sheet_ids
        for step, (action, source, target) in enumerate(path)
    ]
    for row, row_id in zip(
        transitions, w.ids("score_sheet_transitions", len(transitions)), strict=True
    ):
        row["id"] = row_id
    w.insert("score_sheet_transitions", transitions)
    return PeriodSet(
        period_id=period_id,
        criteria_draft_id=draft_id,
        criteria_version_id=version_id,
        sheet_ids=sheet_ids,
        unit_ids=unit_ids,
        leaf_lineages=[leaf.lineage for leaf in leaves],
        criteria=sum(1 for n in nodes if n.kind == "criterion"),
        sample_units=[org.unit_names[u] for u in unit_ids[:: max(1, len(unit_ids) // 5)]],
    )


# --- everything ---------------------------------------------------------------------------
@dataclass
class BenchData:
    org: Org
    large: DraftSet
    small: DraftSet
    live: DraftSet
    large_period: PeriodSet
    small_period: PeriodSet
    live_period: PeriodSet
    seconds: float = 0.0


LARGE_DRAFT = DraftSpec(
    "Quy chế tổ chức và hoạt động của Cụm, Khối thi đua (300 điều)",
    LARGE_TREE,
    versions=3,
    comments_per_round=(3000,),
    invited=29,
)
SMALL_DRAFT = DraftSpec(
    "Quy định về chế độ thông tin, báo cáo (10 điều khoản)",
    SMALL_TREE,
    versions=3,
    comments_per_round=(4,),
    invited=3,
)
# Units comment on a full-size draft, as they would in real life.
LIVE_DRAFT = DraftSpec(
    "Quy chế làm việc của Viện kiểm sát nhân dân tỉnh (đang lấy ý kiến, 300 điều)",
    LARGE_TREE,
    versions=1,
    comments_per_round=(0,),
    invited=29,
    live=True,
)


def build(conn: Connection, *, seed: int = 2026, now: datetime | None = None) -> BenchData:
    """Write the whole workload into an empty schema (the caller commits)."""
    import time

    started = time.perf_counter()
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    w = Writer(conn)
    org = build_org(w, rng, now)
    large = build_draft(w, rng, org, LARGE_DRAFT, now)
    small = build_draft(w, rng, org, SMALL_DRAFT, now)
    live = build_draft(w, rng, org, LIVE_DRAFT, now)
    big_table = build_criteria(
        w, org, LARGE_CRITERIA, now, "Bảng tiêu chí chấm điểm thi đua năm 2026"
    )
    small_table = build_criteria(w, org, SMALL_CRITERIA, now, "Bảng tiêu chí rút gọn (10 tiêu chí)")
    all_units = list(org.unit_ids)
    large_period = build_period(
        w, rng, org, name="Chấm điểm thi đua năm 2026", criteria=big_table,
        units=all_units, state="verified", now=now,
    )  # fmt: skip
    small_period = build_period(
        w, rng, org, name="Chấm điểm thử (3 đơn vị)", criteria=small_table,
        units=["KV1", "KV2", "KV3"], state="verified", now=now,
    )  # fmt: skip
    live_period = build_period(
        w, rng, org, name="Sơ kết 6 tháng cuối năm 2026", criteria=big_table,
        units=all_units, state="cluster_scored", now=now,
    )  # fmt: skip
    reset_sequences(conn)
    return BenchData(
        org=org,
        large=large,
        small=small,
        live=live,
        large_period=large_period,
        small_period=small_period,
        live_period=live_period,
        seconds=time.perf_counter() - started,
    )


# --- a 300-article Word file for the import benchmark -------------------------------------
def regulation_docx(articles: int = 300, seed: int = 7) -> bytes:
    """A Quy chế as a drafter types it: "Chương I" and its title in bold capitals,
    "Điều n. Tên điều" in bold, Khoản "1." and Điểm "a)" typed as text."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    rng = random.Random(seed)
    per_chapter = 30
    shape = TreeShape(
        chapters=max(1, articles // per_chapter),
        articles_per_chapter=min(per_chapter, articles),
        clauses_per_article=3,
        points_per_clause=3,
    )
    document = docx.Document()
    for node in regulation_nodes(rng, shape):
        if node.kind == "chapter":
            for line in (f"Chương {node.number}", node.title):
                paragraph = document.add_paragraph()
                paragraph.add_run(line).bold = True
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif node.kind == "article":
            document.add_paragraph().add_run(f"Điều {node.number}. {node.title}").bold = True
        elif node.kind == "clause":
            document.add_paragraph(f"{node.number}. {node.text}")
        else:
            document.add_paragraph(f"{node.number}) {node.text}")
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


# --- reminder scan candidates -------------------------------------------------------------
def marked_up_docx(for_comment: bytes, *, comments: int = 200, changes: int = 100) -> bytes:
    """The draft for comment as a unit marks it up in Word: `comments` Word comments and
    `changes` tracked changes (the last word of a khoản or điểm replaced), on different
    clauses spread over the whole text."""
    import docx
    from docx.oxml.ns import qn

    from tests.tracked import add_word_comment, paragraph_text, track_replace

    document = docx.Document(io.BytesIO(for_comment))
    # Khoản and điểm paragraphs ("1. …", "a) …"), each the first of its clause's bookmark.
    body = [
        p
        for p in document.paragraphs
        if p.runs
        and p._p.find(qn("w:bookmarkStart")) is not None
        and re.match(r"^(\d+\.|[a-zđ]\)) \S+ \S+", paragraph_text(p))
    ]
    wanted = comments + changes
    if len(body) < wanted:
        raise AssertionError(f"only {len(body)} paragraphs to mark up, {wanted} wanted")
    step = len(body) // wanted
    picked = body[::step][:wanted]
    for number, paragraph in enumerate(picked[:comments], start=1):
        add_word_comment(document, paragraph, f"Ý kiến {number}: đề nghị làm rõ nội dung này.")
    for paragraph in picked[comments:]:
        last = paragraph_text(paragraph).split()[-1]
        track_replace(paragraph, last, f"{last.rstrip('.;')} (sửa đổi).")
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def _local_day_end(now: datetime, days: int) -> datetime:
    """23:59 local time `days` calendar days from today, in UTC (a deadline "on dd/mm")."""
    from accounts.clock import end_of_local_day, to_local

    return end_of_local_day(to_local(now).date() + timedelta(days=days))


@dataclass
class ScanSet:
    """The reminder scan's workload: a fixed set of items due now, and `pairs` (person,
    item) candidates that are not due yet (deadlines weeks ahead)."""

    pairs: int = 0
    rounds: int = 0
    sheets: int = 0
    due_reminders: int = 0  # what one scan should decide
    draft: tuple[int, int] = (0, 0)  # (draft id, version id) the rounds consult on
    next_round: int = 1


def _reminder_draft(w: Writer, org: Org, now: datetime) -> tuple[int, int]:
    drafter = org.user_ids["soanthao"]
    draft_id = w.id("drafts")
    w.insert(
        "drafts",
        [
            {
                "id": draft_id,
                "title": "Các văn bản đang lấy ý kiến (đợt định kỳ)",
                "kind": "regulation",
                "state": "consulting",
                "drafting_unit_id": org.unit_ids["VP"],
                "created_by_id": drafter,
                "created_at": now - timedelta(days=5),
            }
        ],
    )
    w.insert(
        "draft_drafters", [{"id": w.id("draft_drafters"), "draft_id": draft_id, "user_id": drafter}]
    )
    nodes = regulation_nodes(random.Random(1), SMALL_TREE)
    version_id, _ = write_version(
        w, draft_id=draft_id, number=1, nodes=nodes, author_id=drafter,
        created=now - timedelta(days=5), based_on=None,
    )  # fmt: skip
    return draft_id, version_id


def _open_rounds(
    w: Writer,
    org: Org,
    scan: ScanSet,
    draft: tuple[int, int],
    count: int,
    closes: datetime,
    now: datetime,
) -> int:
    """`count` open rounds on the reminder draft, every unit invited and not yet answered."""
    draft_id, version_id = draft
    invited = org.invited_shorts
    ids = w.ids("consultations", count)
    w.insert(
        "consultations",
        [
            {
                "id": cid,
                "draft_id": draft_id,
                "version_id": version_id,
                "round_number": scan.next_round + i,
                "opens_at": now - timedelta(days=3),
                "closes_at": closes,
                "visibility": "blind",
                "letter_number": f"{scan.next_round + i}/VKS-VP",
                "letter_text": "",
                "created_by_id": org.user_ids["soanthao"],
                "created_at": now - timedelta(days=3),
                "closed_at": None,
            }
            for i, cid in enumerate(ids)
        ],
    )
    scan.next_round += count
    responses = [
        {
            "consultation_id": cid,
            "unit_id": org.unit_ids[short],
            "status": "not_started",
            "agrees_without_comments": False,
            "due_at": closes,
            "lock_version": 1,
        }
        for cid in ids
        for short in invited
    ]
    for row, rid in zip(responses, w.ids("unit_responses", len(responses)), strict=True):
        row["id"] = rid
    w.insert("unit_responses", responses)
    scan.rounds += count
    # Each unit has two people (head and staff): two candidates per response.
    return len(responses) * 2


def _candidate_periods(
    w: Writer,
    org: Org,
    scan: ScanSet,
    table_: PeriodSet,
    *,
    count: int,
    state: str,
    due: datetime,
    now: datetime,
) -> int:
    """`count` periods of 30 sheets in `state` (self_scoring or submitted), due at `due`."""
    units = list(org.unit_ids.values())
    period_ids = w.ids("scoring_periods", count)
    w.insert(
        "scoring_periods",
        [
            {
                "id": pid,
                "name": f"Kỳ chấm điểm chuyên đề số {pid}",
                "year_id": org.year_id,
                "criteria_draft_id": table_.criteria_draft_id,
                "criteria_version_id": table_.criteria_version_id,
                "steps_config": DEFAULT_STEPS,
                "step_reviewers": STEP_REVIEWERS,
                "bands_config": {},
                "disqualifiers": [],
                "bonus_cap": None,
                "created_by_id": org.user_ids["thamdinh"],
                "created_at": now - timedelta(days=3),
            }
            for pid in period_ids
        ],
    )
    deadlines = [
        {"period_id": pid, "step_key": key, "due_at": due + timedelta(days=offset)}
        for pid in period_ids
        for key, offset in (("self", 0), ("cluster", 10), ("office", 20), ("council", 30))
    ]
    for row, rid in zip(deadlines, w.ids("scoring_period_deadlines", len(deadlines)), strict=True):
        row["id"] = rid
    w.insert("scoring_period_deadlines", deadlines)
    sheets = [
        {
            "period_id": pid,
            "unit_id": uid,
            "group_id": org.unit_group.get(uid),
            "state": state,
            "due_at": due,
            "disqualification_note": "",
            "created_at": now - timedelta(days=3),
            "lock_version": 1,
        }
        for pid in period_ids
        for uid in units
    ]
    sheet_ids = w.ids("score_sheets", len(sheets))
    for row, sid in zip(sheets, sheet_ids, strict=True):
        row["id"] = sid
    w.insert("score_sheets", sheets)
    if state != "self_scoring":
        scores = [
            {
                "sheet_id": sid,
                "lineage": lineage_,
                "stage": "self",
                "value": Decimal(2),
                "note": "",
                "updated_at": now - timedelta(days=2),
                "lock_version": 1,
            }
            for sid in sheet_ids
            for lineage_ in table_.leaf_lineages
        ]
        for row, rid in zip(scores, w.ids("scores", len(scores)), strict=True):
            row["id"] = rid
        w.insert("scores", scores)
        # Evidence for the whole sheet: nothing is missing, so nothing is due about it.
        evidence_ids = w.ids("score_evidence", len(sheet_ids))
        w.insert(
            "score_evidence",
            [
                {
                    "id": eid,
                    "sheet_id": sid,
                    "lineage": None,
                    "filename": "Báo cáo kết quả công tác.pdf",
                    "stored_name": f"bench-{eid}.pdf",
                    "content_type": "application/pdf",
                    "size": 120_000,
                    "uploaded_at": now - timedelta(days=2),
                }
                for eid, sid in zip(evidence_ids, sheet_ids, strict=True)
            ],
        )
    scan.sheets += len(sheets)
    # Self-scoring: the unit's head and staff hold it; submitted: the Cụm leader's head.
    return len(sheets) * (2 if state == "self_scoring" else 1)


def add_due_items(conn: Connection, data: BenchData, scan: ScanSet, *, now: datetime) -> None:
    """What every scan must decide: 10 rounds closing tomorrow (the T−1 reminder to each
    unit's two people) and one period whose self-scoring is due tomorrow."""
    w = Writer(conn)
    draft = _reminder_draft(w, data.org, now)
    scan.draft = draft
    tomorrow = _local_day_end(now, 1)
    scan.due_reminders += _open_rounds(w, data.org, scan, draft, 10, tomorrow, now)
    scan.due_reminders += _candidate_periods(
        w, data.org, scan, data.small_period, count=1, state="self_scoring", due=tomorrow, now=now
    )
    reset_sequences(conn)


def add_candidates(
    conn: Connection, data: BenchData, scan: ScanSet, pairs: int, *, now: datetime
) -> None:
    """Add `pairs` (person, item) candidates that are NOT due: nine in ten are unit
    responses in open rounds closing in 30 days, one in ten score sheets due in 30 days
    (half still self-scoring, half submitted with their self-scores)."""
    w = Writer(conn)
    draft = scan.draft
    later = _local_day_end(now, 30)
    invited = len(data.org.invited_shorts)
    rounds = round(pairs * 0.9 / (2 * invited))
    periods = max(1, round(pairs * 0.1 / (30 * 3)))  # one of each state: 60 + 30 pairs
    added = _open_rounds(w, data.org, scan, draft, rounds, later, now)
    for state in ("self_scoring", "submitted"):
        added += _candidate_periods(
            w, data.org, scan, data.small_period, count=periods, state=state, due=later, now=now
        )
    scan.pairs += added
    reset_sequences(conn)
