"""`flask --app app drafts parse FILE`: the whole parse as JSON, warnings also on stderr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from drafts.parsing import LEFT_OUT_SIGNATURE
from tests.docbuild import DocxBuilder

REAL = Path(__file__).parent / "fixtures" / "real"


def test_parse_prints_title_preamble_nodes_warnings_and_left_out(runner, tmp_path) -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Thi đua", bold=True, center=True)
    doc.paragraph("Căn cứ Luật Thi đua, khen thưởng;")
    doc.paragraph("Điều 1. Một", bold=True)
    doc.paragraph("Điều 3. Ba", bold=True)
    doc.paragraphs("Nơi nhận:", "- Lưu: VT.")
    path = tmp_path / "quy-che.docx"
    path.write_bytes(doc.to_bytes())

    result = runner.invoke(args=["drafts", "parse", str(path)])

    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["title", "preamble", "nodes", "warnings", "left_out"]
    assert data["title"] == "QUY CHẾ Thi đua"
    assert data["preamble"] == ["Căn cứ Luật Thi đua, khen thưởng;"]
    assert [n["number"] for n in data["nodes"]] == ["1", "3"]
    assert data["warnings"] == ["Số thứ tự không liên tục: Điều 3 đứng ngay sau Điều 1."]
    assert data["left_out"] == [
        {"text": "Nơi nhận:", "reason": LEFT_OUT_SIGNATURE},
        {"text": "- Lưu: VT.", "reason": LEFT_OUT_SIGNATURE},
    ]
    assert "Cảnh báo: Số thứ tự không liên tục: Điều 3 đứng ngay sau Điều 1." in result.stderr
    assert "Không nhập 2 đoạn" in result.stderr


def test_parse_reads_a_real_appendix_whole(runner, tmp_path) -> None:
    path = tmp_path / "phu-luc.docx"
    shutil.copy(REAL / "nghi-dinh-30-2020-phu-luc-1.docx", path)

    result = runner.invoke(args=["drafts", "parse", str(path)])

    assert result.exit_code == 0
    assert [n["number"] for n in json.loads(result.stdout)["nodes"]] == ["I", "II"]


def test_parse_errors_go_to_stderr_with_status_2(runner, tmp_path) -> None:
    path = tmp_path / "rong.docx"
    DocxBuilder().paragraphs("Kính gửi các đơn vị.").document.save(path)

    result = runner.invoke(args=["drafts", "parse", str(path)])

    assert result.exit_code == 2
    assert "Không nhận dạng được cấu trúc văn bản" in result.stderr
    assert result.stdout == ""
