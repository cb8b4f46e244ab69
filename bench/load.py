"""Real HTTP against gunicorn: comment submission against its bare-insert floor, and the
50-user load run (locust, headless).

Every process started here is stopped here, by its PID (the gunicorn master, then any
worker still alive), never by name.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc), e.g. gunicorn's workers."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0; it is gone for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Gunicorn:
    """gunicorn from the virtualenv, on a free loopback port, with its own environment."""

    def __init__(
        self,
        app_spec: str,
        env: Mapping[str, str],
        *,
        workers: int = 2,
        log: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.app_spec = app_spec
        self.env = {**os.environ, **env}
        self.workers = workers
        self.port = free_port()
        self.log = log
        self.cwd = cwd or Path(__file__).resolve().parent.parent
        self.process: subprocess.Popen[bytes] | None = None
        self.worker_pids: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self) -> list[str]:
        return [
            f"--workers={self.workers}",
            f"--bind=127.0.0.1:{self.port}",
            "--timeout=60",
            "--graceful-timeout=5",
        ]

    def start(self, ready_path: str = "/login", timeout: float = 60) -> Gunicorn:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), *self.options(), self.app_spec],
            env=self.env,
            cwd=self.cwd,
            stdout=out,
            stderr=out,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                status, _ = request("GET", self.url + ready_path, timeout=2)
                if status < 500 and len(children_of(self.process.pid)) >= self.workers:
                    self.worker_pids = children_of(self.process.pid)
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not start in time")

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers gracefully), then
        SIGKILL whatever remains."""
        if self.process is None:
            return
        pids = [self.process.pid, *children_of(self.process.pid), *self.worker_pids]
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        for pid in dict.fromkeys(pids):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)

    def kill9(self) -> list[int]:
        """SIGKILL the master and every worker at once, by PID; returns the PIDs."""
        assert self.process is not None
        pids = [self.process.pid, *children_of(self.process.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return pids

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- a small HTTP client ------------------------------------------------------------------
def request(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close each one)."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    conn = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        payload = None
        all_headers = dict(headers or {})
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        conn.request(method, "/" + path, body=payload, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Burst:
    """Outcome of a burst of POSTs from several client threads."""

    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)  # 201 bodies
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ok(self) -> int:
        return len(self.acknowledged)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def post_burst(
    url: str,
    make: Callable[[int, int], tuple[dict[str, Any], Mapping[str, str]]],
    *,
    clients: int,
    seconds: float,
    max_requests: int = 1_000_000,
    stop: threading.Event | None = None,
    burst: Burst | None = None,
) -> Burst:
    """`clients` threads POST to `url` until `seconds` pass, `max_requests` are sent or
    `stop` is set. `make(client, n)` gives each request's JSON body and headers. Pass
    `burst` to watch the results while it runs (from another thread)."""
    burst = burst if burst is not None else Burst()
    lock = burst.lock
    sent = [0]
    stop = stop or threading.Event()
    ends = time.monotonic() + seconds

    def client(index: int) -> None:
        n = 0
        while not stop.is_set() and time.monotonic() < ends:
            with lock:
                if sent[0] >= max_requests:
                    return
                sent[0] += 1
            body, headers = make(index, n)
            n += 1
            started = time.perf_counter()
            try:
                status, raw = request("POST", url, body=body, headers=headers)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    burst.errors.append(exc.__class__.__name__)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                burst.statuses[status] = burst.statuses.get(status, 0) + 1
                burst.latencies_ms.append(elapsed)
                if status == 201:
                    burst.acknowledged.append(json.loads(raw))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    burst.seconds = time.perf_counter() - started
    return burst


# --- comment submission against the bare insert -------------------------------------------
SECRET = "bench-secret-key-not-for-production"


def server_env(url: str, work: Path) -> dict[str, str]:
    """The environment gunicorn starts the app with (the same database as the bench)."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "CELERY_BROKER_URL": "memory://",
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(work / "outbox"),
        "UPLOAD_DIR": str(work / "uploads"),
    }


def _live_targets(url: str, data: Any) -> tuple[list[tuple[int, int, int]], list[int]]:
    """(response id, unit id, staff user id) of every unit invited to the live round, and
    the ids of its clauses that take comments."""
    from sqlalchemy import create_engine, text

    from config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            responses = [
                (rid, uid, data.org.user_ids[f"{short.lower()}.canbo"])
                for rid, uid, short in conn.execute(
                    text(
                        "SELECT r.id, r.unit_id, u.short_name FROM unit_responses r JOIN units u "
                        "ON u.id = r.unit_id WHERE r.consultation_id = :c ORDER BY r.id"
                    ),
                    {"c": data.live.consultation_id},
                )
            ]
            clauses = list(
                conn.execute(
                    text(
                        "SELECT id FROM clauses WHERE version_id = :v "
                        "AND kind IN ('article', 'clause', 'point') ORDER BY seq"
                    ),
                    {"v": data.live.version_ids[-1]},
                ).scalars()
            )
    finally:
        engine.dispose()
    return responses, clauses


def comment_text(client: int, n: int) -> str:
    return (
        f"Đề nghị làm rõ trách nhiệm phối hợp của đơn vị tại điều khoản này "
        f"(ý kiến số {n + 1} của người góp ý {client + 1})."
    )


def measure_submit(
    url: str,
    data: Any,
    work: Path,
    *,
    seconds: float,
    clients: int,
    app_spec: str = "app:create_app()",
) -> dict[str, Any]:
    """Comments per second through the JSON API (token auth, the real operation) against
    the same number of clients doing one raw INSERT per request, both on gunicorn with
    2 workers and the same database."""
    responses, clauses = _live_targets(url, data)
    cid = data.live.consultation_id
    draft_id = data.live.draft_id
    env = server_env(url, work)
    log_file = work / "gunicorn.log"

    def api_request(client: int, n: int) -> tuple[dict[str, Any], dict[str, str]]:
        _rid, _uid, staff = responses[client % len(responses)]
        username = next(u for u, i in data.org.user_ids.items() if i == staff)
        body = {"clause_id": clauses[(client * 7919 + n * 104729) % len(clauses)],
                "text": comment_text(client, n)}  # fmt: skip
        return body, {"Authorization": f"Bearer {data.org.tokens[username]}"}

    def bare_request(client: int, n: int) -> tuple[dict[str, Any], dict[str, str]]:
        rid, uid, staff = responses[client % len(responses)]
        return {
            "consultation_id": cid,
            "draft_id": draft_id,
            "response_id": rid,
            "unit_id": uid,
            "clause_id": clauses[(client * 7919 + n * 104729) % len(clauses)],
            "author_id": staff,
            "text": comment_text(client, n),
        }, {}

    api_url = f"/api/v1/consultations/{cid}/comments"
    with Gunicorn(app_spec, env, log=log_file) as server:
        post_burst(server.url + api_url, api_request, clients=clients, seconds=2)  # warm-up
        api = post_burst(server.url + api_url, api_request, clients=clients, seconds=seconds)
    with Gunicorn("bench.floors:create_floor_app()", env, log=log_file) as server:
        floor_url = server.url + "/__floor/comments"
        post_burst(floor_url, bare_request, clients=clients, seconds=2)
        bare = post_burst(floor_url, bare_request, clients=clients, seconds=seconds)
    if not api.ok:
        raise RuntimeError(f"no comment was accepted: {api.statuses} {api.errors[:3]}")
    from bench.measure import percentile

    return {
        "rps": api.rps,
        "bare_rps": bare.rps,
        "p95_ms": percentile(api.latencies_ms, 95),
        "bare_p95_ms": percentile(bare.latencies_ms, 95) if bare.latencies_ms else 0.0,
        "statuses": dict(sorted(api.statuses.items())),
        "bare_statuses": dict(sorted(bare.statuses.items())),
        "errors": len(api.errors) + len(bare.errors),
    }


# --- the load run -------------------------------------------------------------------------
def load_run(url: str, data: Any, work: Path, *, users: int, seconds: int) -> dict[str, Any]:
    """`users` simulated people for `seconds` on gunicorn (2 workers): locust, headless.
    Returns the request count, failures and the 95th percentile over every request."""
    from bench.data import PASSWORD

    responses, clauses = _live_targets(url, data)
    by_id = {i: u for u, i in data.org.user_ids.items()}
    config = {
        "consultation_id": data.live.consultation_id,
        "clause_ids": clauses,
        "unit_tokens": [data.org.tokens[by_id[staff]] for _rid, _uid, staff in responses],
        "drafter": "soanthao",
        "password": PASSWORD,
        "officer_token": data.org.tokens["thamdinh"],
        "sheet_ids": data.live_period.sheet_ids,
    }
    config_file = work / "locust.json"
    config_file.write_text(json.dumps(config))
    prefix = work / "locust"
    command = [
        str(BIN / "locust"),
        f"--locustfile={Path(__file__).with_name('locustfile.py')}",
        "--headless",
        f"--users={users}",
        "--spawn-rate=10",
        f"--run-time={seconds}s",
        f"--csv={prefix}",
        "--only-summary",
        "--loglevel=WARNING",
    ]
    with Gunicorn("app:create_app()", server_env(url, work), log=work / "gunicorn.log") as server:
        completed = subprocess.run(
            [*command, f"--host={server.url}"],
            env={**os.environ, "BENCH_LOCUST_CONFIG": str(config_file)},
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
    stats = _csv(Path(f"{prefix}_stats.csv"))
    total = next(row for row in stats if row["Name"] == "Aggregated")
    rows = [
        f"{row['Type']:<5} {row['Name']:<34} {int(row['Request Count']):>6} req "
        f"{int(row['Failure Count']):>4} err  p50 {row['50%']:>6} ms  p95 {row['95%']:>6} ms"
        for row in stats
        if row["Name"] != "Aggregated"
    ]
    failures = _csv(Path(f"{prefix}_failures.csv"))
    rows += [
        f"failure: {f['Method']} {f['Name']}: {f['Error']} ×{f['Occurrences']}" for f in failures
    ]
    return {
        "users": users,
        "seconds": seconds,
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "p95_ms": float(total["95%"]),
        "rps": float(total["Requests/s"]),
        "rows": rows,
        "exit_code": completed.returncode,
    }


def _csv(path: Path) -> list[dict[str, str]]:
    import csv

    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
