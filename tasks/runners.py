"""What each kind of background job does, and the Celery tasks that run them.

A runner receives the claimed job, re-checks that its owner may still do the thing (the
rights may have changed while it waited), reports progress and keeps the result through
tasks.background. A user error (an unreadable file, a missing font) ends the job with
its plain message; anything else with a general message, the details going to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, select

from accounts.clock import now
from accounts.errors import Forbidden, NotFound, UserError, ensure
from accounts.i18n import N_
from comments.consolidation import exports as comment_exports
from comments.consultation.models import Consultation
from drafts import formats
from drafts import operations as draft_ops
from drafts.models import Draft, Version
from extensions import db, enqueue
from tasks import background
from tasks.background import JOB_SWEEP, RUN_JOB
from tasks.models import BackgroundJob, JobKind, JobState
from workflow import exports as workflow_exports
from workflow import queries as workflow_queries
from workflow.models import ScoringPeriod

log = logging.getLogger(__name__)

STEP_READING = N_("Đang đọc tệp")
STEP_CONVERTING = N_("Đang chuyển đổi tệp sang .docx và đọc nội dung")
STEP_PREVIEW = N_("Đang chuẩn bị bản xem trước")
STEP_LOADING = N_("Đang đọc dữ liệu")
STEP_WRITING = N_("Đang tạo tệp")
MSG_GONE = N_("Không còn đối tượng của công việc này (đã bị xóa).")


def run_job(job_id: int) -> str:
    """Run one job; a job that is not queued (finished, or running elsewhere) is left as it
    is. Returns what happened (for logs and tests)."""
    job = background.claim(job_id)
    if job is None:
        return "skipped"
    try:
        RUNNERS[job.kind](job)
    except UserError as exc:
        background.fail(job_id, exc.message)
        return "failed"
    except Exception:
        log.exception("background job %s (%s) failed", job_id, job.kind)
        background.fail(job_id, background.MSG_UNEXPECTED)
        return "failed"
    return "done"


def _subject(model: type, job: BackgroundJob):  # type: ignore[no-untyped-def]
    obj = db.session.get(model, job.subject_id)
    if obj is None:
        raise NotFound(MSG_GONE)
    return obj


# --- the import of a draft's file ----------------------------------------------------------
def _draft_import(job: BackgroundJob) -> None:
    draft: Draft = _subject(Draft, job)
    owner = job.owner
    ensure(owner.can_draft() and draft.is_drafter(owner))
    upload = draft_ops.take_upload(job.params["token"], user=owner, draft=draft)
    source = formats.identify(upload.data, upload.filename)
    step = STEP_CONVERTING if source != "docx" else STEP_READING
    background.progress(job.id, 10, step)
    try:
        preview = draft_ops.read_upload(draft.kind, upload.data, upload.filename)
    except UserError:
        draft_ops.drop_upload(upload.token)  # unreadable: nothing to confirm later
        raise
    background.progress(job.id, 90, STEP_PREVIEW)
    background.finish(
        job.id,
        data={
            "token": upload.token,
            "filename": upload.filename,
            "preview": preview.as_json(),
        },
    )


# --- exports ---------------------------------------------------------------------------------
def _consolidation(job: BackgroundJob, make: Callable[..., comment_exports.Download]) -> None:
    consultation: Consultation = _subject(Consultation, job)
    ensure(consultation.can_track(job.owner))
    background.progress(job.id, 10, STEP_LOADING)
    if job.kind == JobKind.CONSOLIDATION_DOCX:
        download = make(consultation, job.params.get("symbol"))
    else:
        download = make(consultation)
    background.progress(job.id, 90, STEP_WRITING)
    background.finish(
        job.id, file=download.data, filename=download.filename, mimetype=download.mimetype
    )


def _consolidation_docx(job: BackgroundJob) -> None:
    _consolidation(job, comment_exports.consolidation_docx)


def _consolidation_xlsx(job: BackgroundJob) -> None:
    _consolidation(job, comment_exports.consolidation_xlsx)


def _comparison_docx(job: BackgroundJob) -> None:
    draft: Draft = _subject(Draft, job)
    ensure(draft.can_view(job.owner))
    old = db.session.get(Version, job.params.get("old_id"))
    new = db.session.get(Version, job.params.get("new_id"))
    if old is None or new is None or old.draft_id != draft.id or new.draft_id != draft.id:
        raise NotFound(MSG_GONE)
    if not (old.can_view(job.owner) and new.can_view(job.owner)):
        raise Forbidden(N_("Bạn không có quyền thực hiện thao tác này."))
    background.progress(job.id, 10, STEP_LOADING)
    download = comment_exports.comparison_docx(old, new, job.params.get("symbol"))
    background.progress(job.id, 90, STEP_WRITING)
    background.finish(
        job.id, file=download.data, filename=download.filename, mimetype=download.mimetype
    )


def _results(job: BackgroundJob) -> None:
    period: ScoringPeriod = _subject(ScoringPeriod, job)
    ensure(period.can_export_results(job.owner))
    background.progress(job.id, 10, STEP_LOADING)
    results = workflow_queries.period_results(period)
    background.progress(job.id, 50, STEP_WRITING)
    if job.kind == JobKind.RESULTS_PDF:
        data, extension, mimetype = (
            workflow_exports.results_pdf(results),
            "pdf",
            workflow_exports.PDF,
        )
    else:
        data, extension, mimetype = (
            workflow_exports.results_xlsx(results),
            "xlsx",
            workflow_exports.XLSX,
        )
    background.finish(
        job.id,
        file=data,
        filename=workflow_exports.results_filename(period, None, extension),
        mimetype=mimetype,
    )


RUNNERS: dict[JobKind, Callable[[BackgroundJob], None]] = {
    JobKind.DRAFT_IMPORT: _draft_import,
    JobKind.CONSOLIDATION_DOCX: _consolidation_docx,
    JobKind.CONSOLIDATION_XLSX: _consolidation_xlsx,
    JobKind.COMPARISON_DOCX: _comparison_docx,
    JobKind.RESULTS_XLSX: _results,
    JobKind.RESULTS_PDF: _results,
}


# --- the sweep (beat) ------------------------------------------------------------------------
def sweep(moment: datetime | None = None) -> dict[str, Any]:
    """Fail jobs whose worker died (running past JOB_STALE_SECONDS), re-queue jobs whose
    message was lost (queued past JOB_REQUEUE_SECONDS), and forget old finished jobs."""
    moment = moment or now()
    config = current_app.config
    stale_before = moment - timedelta(seconds=float(config["JOB_STALE_SECONDS"]))
    stale = list(
        db.session.scalars(
            select(BackgroundJob.id).where(
                BackgroundJob.state == JobState.RUNNING, BackgroundJob.started_at < stale_before
            )
        )
    )
    for job_id in stale:
        background.fail(job_id, background.MSG_INTERRUPTED)
    lost_before = moment - timedelta(seconds=float(config["JOB_REQUEUE_SECONDS"]))
    lost = list(
        db.session.scalars(
            select(BackgroundJob.id).where(
                BackgroundJob.state == JobState.QUEUED, BackgroundJob.created_at < lost_before
            )
        )
    )
    db.session.rollback()
    for job_id in lost:
        enqueue(RUN_JOB, job_id)
    forgotten = _prune(moment - timedelta(days=float(config["JOB_KEEP_DAYS"])))
    return {"failed": stale, "requeued": lost, "pruned": forgotten}


def _prune(before: datetime) -> int:
    old = db.session.execute(
        select(BackgroundJob.id, BackgroundJob.result_path).where(
            BackgroundJob.created_at < before,
            BackgroundJob.state.in_([JobState.DONE, JobState.FAILED]),
        )
    ).all()
    for row in old:
        if row.result_path:
            (background.results_dir() / Path(row.result_path).name).unlink(missing_ok=True)
    if old:
        db.session.execute(
            delete(BackgroundJob).where(BackgroundJob.id.in_([row.id for row in old]))
        )
    db.session.commit()
    return len(old)


# --- the Celery tasks ------------------------------------------------------------------------
@shared_task(name=RUN_JOB, ignore_result=True)
def run_job_task(job_id: int) -> str:
    return run_job(int(job_id))


@shared_task(name=JOB_SWEEP, ignore_result=True)
def job_sweep_task() -> None:
    sweep()
