"""Background jobs: progress, the status page without JavaScript, owner-only visibility,
the API's 202 and Location, failures in plain words, re-runs that do nothing, and the
sweep that recovers from a worker that died."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from unittest.mock import patch

from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accounts.clock import now
from accounts.models import AuditEntry, Role
from drafts.models import DraftKind, Version
from drafts.operations import ImportPreview, import_runs_in_background
from extensions import db
from tasks import background, runners
from tasks.models import BackgroundJob, JobKind, JobState
from tests.fixtures.consolidation import next_version
from tests.fixtures.drafts import regulation_docx

REFRESH = re.compile(r'<meta http-equiv="refresh" content="\d+">')


def upload(data: bytes, name: str) -> dict[str, object]:
    return {"file": (io.BytesIO(data), name)}


def queued_job(owner, subject, kind=JobKind.CONSOLIDATION_DOCX) -> BackgroundJob:  # type: ignore[no-untyped-def]
    """A job left queued: no worker picks it up (the hand-over is held back)."""
    with patch("notices.notify.enqueue"):
        job = background.start_job(kind, owner=owner, subject=subject)
        db.session.commit()
    return job


# --- progress and the status page -----------------------------------------------------------
def test_status_page_follows_the_job_and_refreshes_itself_without_javascript(
    client, auth, org, make_round
):
    rnd = make_round()
    job = queued_job(org.drafter, rnd.consultation)
    auth.login(org.drafter)

    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Đang chờ" in page and "0%" in page
    # The page reloads itself through a meta refresh: no script is needed.
    assert REFRESH.search(page) and "<script" not in page

    assert background.claim(job.id) is not None
    background.progress(job.id, 40, runners.STEP_LOADING)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Đang chạy" in page and "40%" in page and "Đang đọc dữ liệu" in page
    assert '<progress max="100" value="40">' in page
    assert REFRESH.search(page)

    background.finish(job.id, file=b"PK-bao-cao", filename="bao-cao.docx", mimetype="x/y")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Đã xong" in page and "100%" in page
    assert not REFRESH.search(page)  # nothing left to wait for
    assert f"/jobs/{job.id}/download" in page
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and download.data == b"PK-bao-cao"
    assert "bao-cao.docx" in download.headers["Content-Disposition"]

    listing = client.get("/jobs").get_data(as_text=True)
    assert f"/jobs/{job.id}" in listing and "Việc của tôi" in listing


def test_progress_stays_below_100_until_the_job_is_done(org, make_round):
    job = queued_job(org.drafter, make_round().consultation)
    background.claim(job.id)
    for asked, kept in [(-5, 0), (50, 50), (100, 99), (250, 99)]:
        background.progress(job.id, asked, runners.STEP_WRITING)
        db.session.expire_all()
        assert db.session.get(BackgroundJob, job.id).progress == kept
    background.finish(job.id, data={"ok": True})
    db.session.expire_all()
    done = db.session.get(BackgroundJob, job.id)
    assert (done.state, done.progress, done.result_data) == (JobState.DONE, 100, {"ok": True})
    assert done.started_at is not None and done.finished_at >= done.started_at


def test_a_large_round_exports_its_report_through_a_job(client, auth, org, make_round, app):
    rnd = make_round()
    rnd.comment(org.r1, "Điều 1", "Đề nghị sửa Điều 1.")
    rnd.submit(org.r1)
    auth.login(org.drafter)
    app.config["EXPORT_SYNC_MAX_ROWS"] = 0
    try:
        page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)
        response = client.post(
            f"/consolidation/{rnd.consultation.id}/report.docx", data={"symbol": "15/BC-VP"}
        )
    finally:
        app.config["EXPORT_SYNC_MAX_ROWS"] = 1000
    # The page offers a button that starts the job instead of a direct download.
    assert f'method="post" action="/consolidation/{rnd.consultation.id}/report.docx"' in page
    assert response.status_code == 303 and response.location.startswith("/jobs/")
    job = db.session.scalar(select(BackgroundJob))
    assert job.state == JobState.DONE and job.params == {"symbol": "15/BC-VP"}
    data = client.get(f"/jobs/{job.id}/download").data
    assert "15/BC-VP" in "".join(Document(io.BytesIO(data)).element.body.itertext())
    # Who started what is in the audit log.
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "job.start"))


def test_a_small_round_keeps_the_direct_download(client, auth, org, make_round):
    rnd = make_round()
    auth.login(org.drafter)
    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)
    assert f'<a href="/consolidation/{rnd.consultation.id}/report.docx">' in page
    assert client.get(f"/consolidation/{rnd.consultation.id}/report.docx").status_code == 200


# --- who may see a job -----------------------------------------------------------------------
def test_only_the_owner_and_administrators_see_a_job(
    client, app, auth, org, make_round, api, create_user
):
    rnd = make_round()
    job = queued_job(org.drafter, rnd.consultation)
    background.claim(job.id)
    background.finish(job.id, file=b"secret", filename="bao-cao.docx", mimetype="x/y")
    colleague = create_user(Role.DRAFTER, unit=org.office)

    auth.login(colleague)
    for url in (f"/jobs/{job.id}", f"/jobs/{job.id}/download"):
        assert client.get(url).status_code == 404
    assert f"/jobs/{job.id}" not in client.get("/jobs").get_data(as_text=True)
    for url in (f"/api/v1/jobs/{job.id}", f"/api/v1/jobs/{job.id}/download"):
        response = api(colleague).get(url)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert api(colleague).get("/api/v1/jobs").get_json()["items"] == []
    auth.logout()

    auth.login(org.admin)
    assert client.get(f"/jobs/{job.id}").status_code == 200
    assert api(org.admin).get(f"/api/v1/jobs/{job.id}").status_code == 200
    assert api(org.drafter).get(f"/api/v1/jobs/{job.id}/download").data == b"secret"


# --- the API ---------------------------------------------------------------------------------
def test_api_starts_an_export_with_202_and_location(org, make_round, api):
    rnd = make_round()
    client = api(org.drafter)
    response = client.post(f"/api/v1/consultations/{rnd.consultation.id}/report.xlsx")
    assert response.status_code == 202
    job_id = response.get_json()["id"]
    assert response.headers["Location"] == f"/api/v1/jobs/{job_id}"
    assert response.get_json()["url"] == f"/api/v1/jobs/{job_id}"

    status = client.get(response.headers["Location"]).get_json()
    assert status["state"] == "done" and status["progress"] == 100
    assert status["kind"] == "consolidation_xlsx" and status["error"] is None
    assert status["result"]["download"] == f"/api/v1/jobs/{job_id}/download"
    assert status["result"]["filename"].endswith(".xlsx")
    download = client.get(status["result"]["download"])
    assert download.status_code == 200 and download.data[:2] == b"PK"


def test_api_import_job_ends_in_the_same_preview_and_confirmation(org, create_empty_draft, api):
    draft = create_empty_draft(drafter=org.drafter)
    client = api(org.drafter)
    response = client.post(
        f"/api/v1/drafts/{draft.id}/import-jobs",
        data=upload(regulation_docx(), "du-thao.docx"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    status = client.get(response.headers["Location"]).get_json()
    assert status["state"] == "done"
    preview = status["result"]["preview"]
    assert preview["filename"] == "du-thao.docx" and preview["count"] == 16
    assert db.session.scalar(select(Version)) is None  # nothing saved before confirmation

    # Confirming uses the job's parse: the file is not read again.
    with patch("drafts.operations.read_upload", side_effect=AssertionError("parsed again")):
        confirmed = client.post(
            f"/api/v1/drafts/{draft.id}/imports/confirm", json={"token": preview["token"]}
        )
    assert confirmed.status_code == 201
    assert db.session.scalar(select(Version)).number == 1


def test_every_job_route_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/jobs/{job_id}"]["get"]["responses"]["200"]
    assert "get" in paths["/api/v1/jobs"]
    assert "202" in paths["/api/v1/drafts/{draft_id}/import-jobs"]["post"]["responses"]
    for path in (
        "/api/v1/consultations/{consultation_id}/report.docx",
        "/api/v1/consultations/{consultation_id}/report.xlsx",
        "/api/v1/drafts/{draft_id}/comparison.docx",
        "/api/v1/scoring/periods/{period_id}/results.xlsx",
        "/api/v1/scoring/periods/{period_id}/results.pdf",
    ):
        assert set(paths[path]) == {"get", "post"}
        assert "202" in paths[path]["post"]["responses"]


# --- failures --------------------------------------------------------------------------------
def test_an_unreadable_file_fails_with_its_plain_message(client, auth, org, create_empty_draft):
    draft = create_empty_draft(drafter=org.drafter)
    auth.login(org.drafter)
    response = client.post(
        f"/drafts/{draft.id}/import",
        data=upload(b"%PDF-1.7 day khong phai PDF", "hong.pdf"),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.request.path.startswith("/jobs/")
    assert "Không thành công" in page and "Không đọc được tệp PDF" in page
    assert "Traceback" not in page and not REFRESH.search(page)
    job = db.session.scalar(select(BackgroundJob))
    assert job.state == JobState.FAILED and job.finished_at is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "job.failed"))
    assert db.session.scalar(select(Version)) is None


def test_an_unexpected_error_shows_a_general_message_in_the_users_language(
    client, auth, org, make_round, api
):
    rnd = make_round()
    with patch(
        "comments.consolidation.exports.consolidation_docx",
        side_effect=RuntimeError("boom at line 3"),
    ):
        response = api(org.drafter).post(f"/api/v1/consultations/{rnd.consultation.id}/report.docx")
    status = api(org.drafter).get(response.headers["Location"]).get_json()
    assert status["state"] == "failed" and status["result"] is None
    assert status["error"].startswith("Đã xảy ra lỗi khi xử lý")
    assert "boom" not in status["error"]

    auth.login(org.drafter)
    client.post("/lang", data={"lang": "en"})
    page = client.get(f"/jobs/{status['id']}").get_data(as_text=True)
    assert "boom" not in page and "Traceback" not in page
    assert "An error occurred while processing" in page


# --- running twice, and a worker that died ----------------------------------------------------
def test_running_a_finished_job_again_does_nothing(org, make_round):
    rnd = make_round()
    with patch("notices.notify.enqueue"):
        job = background.start_job(
            JobKind.CONSOLIDATION_XLSX, owner=org.drafter, subject=rnd.consultation
        )
        db.session.commit()
    assert runners.run_job(job.id) == "done"
    db.session.expire_all()
    first = db.session.get(BackgroundJob, job.id)
    finished_at, attempts = first.finished_at, first.attempts
    with patch("comments.consolidation.exports.consolidation_xlsx") as make:
        assert runners.run_job(job.id) == "skipped"
        make.assert_not_called()
    db.session.expire_all()
    again = db.session.get(BackgroundJob, job.id)
    assert (again.state, again.finished_at, again.attempts) == (
        JobState.DONE,
        finished_at,
        attempts,
    )


def test_the_sweep_fails_a_job_whose_worker_died_and_requeues_a_lost_one(org, make_round, app):
    rnd = make_round()
    died = queued_job(org.drafter, rnd.consultation)
    background.claim(died.id)  # the worker took it, then was killed
    lost = queued_job(org.drafter, rnd.consultation)  # its message never reached a worker
    later = now() + timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)

    with patch("tasks.runners.enqueue") as enqueue:
        swept = runners.sweep(later)

    assert swept["failed"] == [died.id] and swept["requeued"] == [lost.id]
    enqueue.assert_called_once_with(background.RUN_JOB, lost.id)
    db.session.expire_all()
    dead = db.session.get(BackgroundJob, died.id)
    assert dead.state == JobState.FAILED
    assert dead.error == background.MSG_INTERRUPTED
    # A fresh job is left alone.
    assert runners.sweep(now())["failed"] == []


def test_the_sweep_forgets_old_finished_jobs_and_their_files(org, make_round, app):
    job_id = queued_job(org.drafter, make_round().consultation).id
    background.claim(job_id)
    background.finish(job_id, file=b"x", filename="a.docx", mimetype="x/y")
    path = background.results_dir() / f"{job_id}.bin"
    assert path.exists()
    runners.sweep(now() + timedelta(days=app.config["JOB_KEEP_DAYS"] + 1))
    assert not path.exists()
    assert db.session.get(BackgroundJob, job_id) is None


def test_the_beat_schedule_runs_the_job_sweep(app):
    from tasks import beat_schedule

    schedule = beat_schedule(app.config)
    assert schedule["job-sweep"]["task"] == background.JOB_SWEEP


# --- the kept parse result ------------------------------------------------------------------
points = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False)
node = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["group", "criterion"]),
        "number": st.text(max_size=5),
        "title": st.text(max_size=20),
        "text": st.just(""),
        "max_points": st.one_of(st.none(), points),
        "guidance": st.text(max_size=20),
        "children": st.just([]),
    }
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    nodes=st.lists(
        st.builds(
            lambda parent, kids: {**parent, "children": kids}, node, st.lists(node, max_size=3)
        ),
        max_size=4,
    ),
    total=st.one_of(st.none(), points),
    warnings=st.lists(st.text(max_size=30), max_size=3),
)
def test_a_kept_preview_reads_back_exactly(nodes, total, warnings):
    """Whatever the parse, the preview a job keeps (as JSON) reads back the same: points
    stay exact decimals, so confirming creates what the user saw."""
    preview = ImportPreview(DraftKind.CRITERIA, nodes, warnings, total, title="Bảng")
    kept = json.loads(json.dumps(preview.as_json()))
    back = ImportPreview.from_json(kept)
    assert back == preview
    assert all(
        isinstance(n["max_points"], Decimal) for n in back.nodes if n["max_points"] is not None
    )


def test_import_goes_to_the_background_by_format_and_size():
    docx = regulation_docx()
    assert import_runs_in_background(docx, "a.docx", max_bytes=len(docx)) is False
    assert import_runs_in_background(docx, "a.docx", max_bytes=len(docx) - 1) is True
    assert import_runs_in_background(b"%PDF-1.4 ...", "a.pdf", max_bytes=10**9) is True
    assert import_runs_in_background(b"{\\rtf1 x}", "a.rtf", max_bytes=10**9) is True


def test_the_comparison_table_and_the_results_run_as_jobs(
    client, auth, api, org, make_round, create_draft, open_period, app
):
    draft = create_draft(drafter=org.drafter)
    rnd = make_round(draft)
    new = next_version(draft, org.drafter, lambda nodes: None)
    auth.login(org.drafter)
    app.config["EXPORT_SYNC_MAX_ROWS"] = 0
    try:
        diff_page = client.get(f"/consolidation/drafts/{draft.id}/diff").get_data(as_text=True)
    finally:
        app.config["EXPORT_SYNC_MAX_ROWS"] = 1000
    assert f'method="post" action="/consolidation/drafts/{draft.id}/comparison.docx"' in diff_page
    response = client.post(
        f"/consolidation/drafts/{draft.id}/comparison.docx",
        data={"old": rnd.version.id, "new": new.id, "symbol": "16/BSS-VP"},
    )
    assert response.status_code == 303
    job_id = int(response.location.rsplit("/", 1)[1])
    data = client.get(f"/jobs/{job_id}/download").data
    assert "Số: 16/BSS-VP" in "".join(Document(io.BytesIO(data)).element.body.itertext())

    period = open_period()
    started = api(org.verifier).post(f"/api/v1/scoring/periods/{period.id}/results.pdf")
    assert started.status_code == 202
    status = api(org.verifier).get(started.headers["Location"]).get_json()
    assert status["state"] == "done" and status["result"]["filename"].endswith(".pdf")
    assert api(org.verifier).get(status["result"]["download"]).data.startswith(b"%PDF")
    # Someone who may not see the results cannot start the job either.
    refused = api(org.staff1).post(f"/api/v1/scoring/periods/{period.id}/results.pdf")
    assert refused.status_code == 403
