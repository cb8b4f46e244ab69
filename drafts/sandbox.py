"""Parse an upload in a child process with a memory cap and a time limit.

A huge or hostile document (a million-row sheet, a package that inflates far beyond its
size, a conversion that never ends) must not hold a web worker for long or leave its
memory grown: the parser runs in a fresh Python process (`python -m drafts.sandbox`)
whose address space is capped (RLIMIT_AS), and which is killed, with every process it
started in its session, when the wall-clock limit passes. The child also stops itself at
that limit (SIGALRM), so that what it started in a session of its own (LibreOffice, for
the .doc/.odt/.rtf conversions of drafts.formats) is stopped by its own clean-up first. The
worker only waits for the answer and receives the parsed result.

Callers name the parser ("drafts.parsing:parse_regulation") and pass the bytes and the
file name; the child imports the parser, calls it and sends back its result, or its
ParseError. Pure module: no Flask, no database.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import pickle
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from drafts.officefile import N_
from drafts.parsing import ParseError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The child stops itself at the limit; the parent kills it if it has not answered this
# much later.
GRACE_SECONDS = 3.0

MSG_MEMORY = N_(
    "Tệp quá lớn hoặc quá phức tạp: việc đọc tệp cần hơn %(memory_mb)d MB bộ nhớ "
    "(giới hạn PARSE_MEMORY_MB) nên đã bị dừng."
)
MSG_TIME = N_(
    "Tệp cần quá nhiều thời gian để đọc: việc đọc tệp vượt %(seconds)s giây "
    "(giới hạn PARSE_TIMEOUT_SECONDS) nên đã bị dừng."
)
MSG_CRASHED = N_("Không đọc được tệp: trình đọc tệp dừng bất thường (tệp quá lớn hoặc bị hỏng).")

LimitKind = Literal["memory", "time", "crashed"]


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 512
    seconds: float = 20.0


class LimitExceeded(ParseError):
    """The parser was stopped: it needed more memory or time than allowed, or died."""

    def __init__(self, template: str, kind: LimitKind, **values: Any) -> None:
        super().__init__(template, **values)
        self.kind = kind


def run_parser(
    target: str,
    data: bytes,
    filename: str = "",
    *,
    limits: Limits,
    options: dict[str, Any] | None = None,
) -> Any:
    """Call `target` ("package.module:function") on `data` in a child process and return
    its result. The function receives the bytes, `filename=` when it takes one, and the
    keyword `options`. Raises the parser's ParseError, or LimitExceeded."""
    request = {
        "target": target,
        "data": data,
        "filename": filename,
        "options": options or {},
        "memory_mb": limits.memory_mb,
        "seconds": limits.seconds,
        # The child finds the parser (and, in tests, a stand-in) where this process does.
        "sys_path": [entry for entry in sys.path if entry],
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "drafts.sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=PROJECT_ROOT,
        # Its own session: on timeout the whole group goes, whatever the parser started.
        start_new_session=True,
    )
    try:
        output, _ = child.communicate(pickle.dumps(request), timeout=limits.seconds + GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _kill(child)
        raise LimitExceeded(MSG_TIME, "time", seconds=f"{limits.seconds:g}") from None
    finally:
        _kill(child)
    try:
        answer = pickle.loads(output)
    except Exception:  # killed, or died before it could answer
        raise LimitExceeded(MSG_CRASHED, "crashed") from None
    if "result" in answer:
        return answer["result"]
    if answer.get("limit") == "memory":
        raise LimitExceeded(MSG_MEMORY, "memory", memory_mb=limits.memory_mb)
    if answer.get("limit") == "time":
        raise LimitExceeded(MSG_TIME, "time", seconds=f"{limits.seconds:g}")
    raise answer["error"]


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
    child.wait()


# --- the child ------------------------------------------------------------------------------
class _TimeUp(BaseException):
    """Raised in the child at its time limit. Not an Exception: parsers that turn any
    Exception into a ParseError must not catch it, and `finally` clean-ups still run."""


def _time_up(signum: int, frame: Any) -> None:
    raise _TimeUp


def _limit_self(memory_mb: int, seconds: float) -> None:
    size = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    # A second guard should the parent be gone and nobody left to kill this process.
    cpu = int(seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _call(request: dict[str, Any]) -> Any:
    module_name, _, function_name = request["target"].partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    kwargs = dict(request["options"])
    if "filename" in inspect.signature(function).parameters:
        kwargs["filename"] = request["filename"]
    return function(request["data"], **kwargs)


def _child_main() -> None:
    request = pickle.loads(sys.stdin.buffer.read())
    sys.path[:0] = [entry for entry in request["sys_path"] if entry not in sys.path]
    answer_to = sys.stdout.buffer
    # Only the answer goes to the parent's pipe; a library that prints must not spoil it.
    sys.stdout = sys.stderr
    _limit_self(request["memory_mb"], request["seconds"])
    signal.signal(signal.SIGALRM, _time_up)
    signal.setitimer(signal.ITIMER_REAL, request["seconds"])
    answer: dict[str, Any]
    try:
        answer = {"result": _call(request)}
    except MemoryError:
        answer = {"limit": "memory"}
    except _TimeUp:
        answer = {"limit": "time"}
    except ParseError as exc:
        # Sent whole, so the caller can tell its kinds apart (a sheet past its limits).
        answer = {"error": exc}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    del request
    try:
        payload = pickle.dumps(answer)
    except MemoryError:
        payload = pickle.dumps({"limit": "memory"})
    answer_to.write(payload)
    answer_to.flush()


if __name__ == "__main__":
    _child_main()
