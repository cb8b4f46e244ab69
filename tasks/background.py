"""Background jobs: long imports and exports a person starts, leaves, and comes back to.

Every change of a job's state goes through this module:

* `start_job` (an operation: the caller commits) adds the queued job and its audit row,
  and hands the job to a worker after the commit;
* the worker `claim`s it (queued → running, one UPDATE: a second delivery of the same
  message, or a re-run of a finished job, finds nothing to claim and does nothing),
  reports `progress`, and ends it with `finish` or `fail`;
* the sweep (tasks.runners.sweep, from beat) re-queues jobs whose message was lost,
  and fails jobs whose worker died mid-run, telling the owner to start again.

Each of the worker-side functions commits its own short transaction, so the status page
sees the progress while the work goes on.
"""

from __future__ import annotations

import logging
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Response, current_app, jsonify, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select, update

from accounts import audit
from accounts.clock import now
from accounts.errors import NotFound
from accounts.i18n import N_
from accounts.models import User
from extensions import db
from notices.notify import after_commit
from tasks.models import JOB_KIND_LABELS, BackgroundJob, JobKind, JobState

log = logging.getLogger(__name__)

RUN_JOB = "draftflow.run_job"
JOB_SWEEP = "draftflow.job_sweep"

STEP_QUEUED = N_("Đang chờ máy chủ xử lý")
STEP_STARTED = N_("Đang bắt đầu")
STEP_DONE = N_("Đã xong")
MSG_INTERRUPTED = N_(
    "Công việc bị gián đoạn vì máy chủ xử lý đã dừng giữa chừng. Hãy thực hiện lại thao tác."
)
MSG_UNEXPECTED = N_(
    "Đã xảy ra lỗi khi xử lý nên công việc không hoàn thành. Hãy thử lại; nếu vẫn lỗi, "
    "hãy báo quản trị viên."
)


# --- starting (an operation: the caller commits) -------------------------------------------
def start_job(
    kind: JobKind, *, owner: User, subject: Any, params: dict[str, Any] | None = None
) -> BackgroundJob:
    """Queue a job about `subject` for `owner`; the worker gets it after the commit."""
    if subject.id is None:
        db.session.flush()
    job = BackgroundJob(
        kind=kind,
        owner_id=owner.id,
        subject_type=subject.__tablename__,
        subject_id=subject.id,
        params=params or {},
        state=JobState.QUEUED,
        progress=0,
        step=STEP_QUEUED,
        created_at=now(),
    )
    db.session.add(job)
    audit.record(
        "job.start",
        job,
        actor=owner,
        summary=f"{JOB_KIND_LABELS[kind]} ({subject.__tablename__} #{subject.id})",
        details={"kind": kind.value},
    )
    after_commit(RUN_JOB, job.id)
    return job


def export_runs_in_background(rows: int) -> bool:
    """Whether an export of `rows` rows (comments, clauses, scores) goes to a worker: past
    EXPORT_SYNC_MAX_ROWS it takes seconds; below, the file is made while the user waits."""
    return rows > int(current_app.config["EXPORT_SYNC_MAX_ROWS"])


# --- the worker's side (each call commits) --------------------------------------------------
def claim(job_id: int) -> BackgroundJob | None:
    """Move a queued job to running; None when it is not queued (finished, or running)."""
    table = BackgroundJob.__table__
    moment = now()
    changed = db.session.execute(
        update(table)
        .where(table.c.id == job_id, table.c.state == JobState.QUEUED.value)
        .values(
            state=JobState.RUNNING.value,
            started_at=moment,
            progress=0,
            step=STEP_STARTED,
            attempts=table.c.attempts + 1,
        )
    ).rowcount
    db.session.commit()
    return db.session.get(BackgroundJob, job_id) if changed else None


def progress(job_id: int, percent: int, step: str) -> None:
    """Record how far a running job is (0–100) and what it is doing (a message id)."""
    table = BackgroundJob.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == job_id, table.c.state == JobState.RUNNING.value)
        .values(progress=max(0, min(int(percent), 99)), step=step[:300])
    )
    db.session.commit()


def results_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def finish(
    job_id: int,
    *,
    data: dict[str, Any] | None = None,
    file: bytes | None = None,
    filename: str = "",
    mimetype: str = "",
) -> None:
    """Keep the result (a JSON parse result, or a file under UPLOAD_DIR/jobs) and end the job."""
    values: dict[str, Any] = {
        "state": JobState.DONE.value,
        "progress": 100,
        "step": STEP_DONE,
        "finished_at": now(),
        "result_data": data,
    }
    if file is not None:
        # Named by the job only: the user's file name is never part of a path.
        name = f"{job_id}.bin"
        (results_dir() / name).write_bytes(file)
        values.update(result_path=name, result_name=filename[:300], result_mimetype=mimetype)
    table = BackgroundJob.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == job_id, table.c.state == JobState.RUNNING.value)
        .values(**values)
    )
    db.session.commit()


def fail(job_id: int, message: str) -> None:
    """End the job with a plain message for its owner (a message id, or the Vietnamese
    message of a user error), never a traceback."""
    db.session.rollback()
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.finished:
        return
    job.state, job.error, job.finished_at = JobState.FAILED, message, now()
    audit.record(
        "job.failed",
        job,
        actor=None,
        summary=f"{JOB_KIND_LABELS[job.kind]}: {message}"[:500],
        details={"kind": job.kind.value},
    )
    db.session.commit()


def send_result(job: BackgroundJob) -> Response:
    """The finished job's file as a download (the page's and the API's), or 404 once it
    is gone."""
    data = _result_file(job)
    if data is None:
        raise NotFound(_("Kết quả của công việc này không còn; hãy thực hiện lại."))
    return send_file(
        BytesIO(data),
        mimetype=job.result_mimetype,
        as_attachment=True,
        download_name=job.result_name,
    )


def _result_file(job: BackgroundJob) -> bytes | None:
    if not job.has_file:
        return None
    try:
        return (results_dir() / Path(job.result_path).name).read_bytes()
    except OSError:
        return None


def kept_import(owner_id: int, draft_id: int, token: str) -> dict[str, Any] | None:
    """The parse (ImportPreview JSON) a finished import job kept for the upload `token`, so
    confirming does not read the file again (a conversion takes seconds); None if none."""
    results = db.session.scalars(
        select(BackgroundJob.result_data)
        .where(
            BackgroundJob.kind == JobKind.DRAFT_IMPORT,
            BackgroundJob.owner_id == owner_id,
            BackgroundJob.subject_id == draft_id,
            BackgroundJob.state == JobState.DONE,
        )
        .order_by(BackgroundJob.id.desc())
        .limit(20)
    )
    for data in results:
        if data and token and data.get("token") == token:
            return data["preview"]
    return None


def recent_jobs(user: User, limit: int = 30) -> list[BackgroundJob]:
    """The person's latest jobs, newest first ("Việc của tôi")."""
    return list(
        db.session.scalars(
            select(BackgroundJob)
            .where(BackgroundJob.owner_id == user.id)
            .order_by(BackgroundJob.created_at.desc(), BackgroundJob.id.desc())
            .limit(limit)
        )
    )


# The API's 202 answer when a request starts a job (Location: the job's URL).
JOB_ACCEPTED = {
    "type": "object",
    "required": ["id", "kind", "state", "url"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "kind": {"type": "string", "enum": [k.value for k in JobKind]},
        "state": {"type": "string", "enum": [s.value for s in JobState]},
        "url": {"type": "string"},
    },
}


# --- links (request time) --------------------------------------------------------------------
_ORIGIN = {
    JobKind.DRAFT_IMPORT: ("drafts.import_file", "draft_id"),
    JobKind.CONSOLIDATION_DOCX: ("consolidation.consultation", "consultation_id"),
    JobKind.CONSOLIDATION_XLSX: ("consolidation.consultation", "consultation_id"),
    JobKind.COMPARISON_DOCX: ("consolidation.diff", "draft_id"),
    JobKind.RESULTS_XLSX: ("workflow.results", "period_id"),
    JobKind.RESULTS_PDF: ("workflow.results", "period_id"),
}


def origin_url(job: BackgroundJob) -> str:
    """The page the job was started from (the draft, the round, the results)."""
    endpoint, arg = _ORIGIN[job.kind]
    return url_for(endpoint, **{arg: job.subject_id})


def result_url(job: BackgroundJob, *, api: bool = False) -> str | None:
    """Where a finished job's result is: the import preview, or the file's download."""
    if job.state != JobState.DONE:
        return None
    if job.kind == JobKind.DRAFT_IMPORT:
        if api:
            return None  # the API's job answer carries the preview itself
        return url_for("drafts.import_job_preview", draft_id=job.subject_id, job_id=job.id)
    return url_for("tasks_api.job_download" if api else "tasks.job_download", job_id=job.id)


def accepted(job: BackgroundJob) -> ResponseReturnValue:
    """The API's answer to a request that started a job: 202, Location of the job."""
    location = url_for("tasks_api.job", job_id=job.id)
    body = {"id": job.id, "kind": job.kind.value, "state": job.state.value, "url": location}
    return jsonify(body), 202, {"Location": location}
