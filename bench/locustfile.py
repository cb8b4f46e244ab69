"""The load run's users: units commenting (JSON API), drafters reading the round's pages,
officers saving verified scores (JSON API).

    python -m bench --load      # builds the data, starts gunicorn, runs this headless

or by hand, against a server loaded by the bench:

    BENCH_LOCUST_CONFIG=bench/work/locust.json locust -f bench/locustfile.py --headless \
        -u 50 -r 10 -t 60s --host http://127.0.0.1:PORT

The JSON file (written by the bench) names the round, the clauses, the period's sheets
and the bearer tokens. Every non-2xx answer counts as a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, task

CONFIG: dict[str, Any] = json.loads(open(os.environ["BENCH_LOCUST_CONFIG"]).read())  # noqa: SIM115
_units = itertools.count()
_sheets = itertools.count()


class UnitCommenter(HttpUser):
    """A unit's staff member writing comments on the open round, clause by clause."""

    weight = 6
    wait_time = between(1, 3)

    def on_start(self) -> None:
        tokens = CONFIG["unit_tokens"]
        self.token = tokens[next(_units) % len(tokens)]
        self.n = 0

    @task(5)
    def comment(self) -> None:
        self.n += 1
        body = {
            "clause_id": random.choice(CONFIG["clause_ids"]),
            "text": f"Đề nghị bổ sung quy định về thời hạn báo cáo (ý kiến thử tải số {self.n}).",
        }
        self.client.post(
            f"/api/v1/consultations/{CONFIG['consultation_id']}/comments",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            name="API: góp ý",
        )

    @task(1)
    def own_comments(self) -> None:
        self.client.get(
            f"/api/v1/consultations/{CONFIG['consultation_id']}/comments",
            headers={"Authorization": f"Bearer {self.token}"},
            name="API: danh sách góp ý",
        )


class DrafterReader(HttpUser):
    """The drafter following the round: the tracker and the comments by clause."""

    weight = 2
    wait_time = between(2, 5)

    def on_start(self) -> None:
        page = self.client.get("/login", name="Đăng nhập").text
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        self.client.post(
            "/login",
            data={
                "username": CONFIG["drafter"],
                "password": CONFIG["password"],
                "csrf_token": found.group(1) if found else "",
            },
            name="Đăng nhập",
        )

    @task(2)
    def tracker(self) -> None:
        self.client.get(
            f"/comments/rounds/{CONFIG['consultation_id']}/tracker", name="Trang theo dõi"
        )

    @task(1)
    def comments(self) -> None:
        self.client.get(
            f"/comments/rounds/{CONFIG['consultation_id']}/comments",
            name="Trang ý kiến theo điều khoản",
        )


class OfficerScorer(HttpUser):
    """The office verifying a sheet: read it, then save a verified score."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self) -> None:
        sheets = CONFIG["sheet_ids"]
        # One sheet per officer, so two simulated officers never edit the same score.
        self.sheet = sheets[next(_sheets) % len(sheets)]
        self.headers = {"Authorization": f"Bearer {CONFIG['officer_token']}"}
        self.versions: dict[str, int] = {}

    def _remember(self, sheet: dict[str, Any]) -> None:
        for row in sheet.get("criteria", []):
            cell = row.get("scores", {}).get("verified")
            if row.get("leaf"):
                self.versions[row["lineage"]] = int(cell["lock_version"]) if cell else 0

    @task(1)
    def read(self) -> None:
        response = self.client.get(
            f"/api/v1/scoring/sheets/{self.sheet}", headers=self.headers, name="API: phiếu chấm"
        )
        if response.ok:
            self._remember(response.json())

    @task(2)
    def score(self) -> None:
        if not self.versions:
            self.read()
            if not self.versions:
                return
        lineage = random.choice(sorted(self.versions))
        value = random.choice(["1,5", "2", "1", "0,5"])
        response = self.client.patch(
            f"/api/v1/scoring/sheets/{self.sheet}/scores",
            json={
                "stage": "verified",
                "scores": [
                    {"lineage": lineage, "value": value, "lock_version": self.versions[lineage]}
                ],
            },
            headers=self.headers,
            name="API: lưu điểm thẩm định",
        )
        if response.ok:
            self._remember(response.json())
