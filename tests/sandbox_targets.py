"""Misbehaving stand-ins for a parser, run by tests inside drafts.sandbox's child process.

Kept apart from the test modules so the child imports nothing heavier than this file.
"""

from __future__ import annotations

import os
from pathlib import Path

from drafts.parsing import ParseError


def echo(data: bytes, filename: str = "") -> dict[str, object]:
    return {"size": len(data), "filename": filename, "pid": os.getpid()}


def refuse(data: bytes) -> None:
    raise ParseError("Tệp không đọc được (thử nghiệm).")


def eat_memory(data: bytes, pid_file: str = "") -> None:
    _note_pid(pid_file)
    hoard = []
    while True:  # until the address-space limit stops it
        hoard.append(bytearray(16 * 1024 * 1024))


def spin(data: bytes, pid_file: str = "") -> None:
    _note_pid(pid_file)
    while True:  # until the wall-clock limit stops it
        pass


def crash(data: bytes) -> None:
    os.abort()


def _note_pid(pid_file: str) -> None:
    if pid_file:
        Path(pid_file).write_text(str(os.getpid()))


def convert_with_stuck_office(data: bytes, office: str = "") -> bytes:
    """A .doc conversion whose LibreOffice (`office`, a stand-in script) never finishes."""
    from drafts import formats

    formats.soffice_binary = lambda: office  # type: ignore[assignment]
    return formats.convert_to_docx(data, "doc")


def ignore_the_alarm(data: bytes) -> None:
    import signal

    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:  # until the parent kills it
        pass
