"""Demo content: the seed case's Quy chế, published for consultation, and the year's
criteria table, adopted so that scoring can start.

Idempotent: each draft is looked up by its title and left alone when it exists.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from accounts.clock import local_today
from accounts.models import Unit, User
from drafts import operations
from drafts.models import Draft, DraftKind
from extensions import db

REGULATION_TITLE = "Quy chế tổ chức và hoạt động của Cụm, Khối thi đua"
DRAFTER = "soanthao"
SIGNER = "Nguyễn Văn Hùng"


def _node(kind: str, number: str, title: str = "", text: str = "", *children: Any) -> dict:
    return {
        "kind": kind,
        "number": number,
        "title": title,
        "text": text,
        "children": list(children),
    }


def _clause(number: str, text: str, *points: dict) -> dict:
    return _node("clause", number, "", text, *points)


def _point(number: str, text: str) -> dict:
    return _node("point", number, "", text)


def regulation_nodes() -> list[dict]:
    """Chương → Điều → Khoản → Điểm, as the Văn phòng drafts it."""
    return [
        _node("chapter", "I", "QUY ĐỊNH CHUNG", "",
            _node("article", "1", "Phạm vi điều chỉnh", "",
                _clause("1", "Quy chế này quy định về tổ chức, nhiệm vụ, quyền hạn và mối quan hệ "
                        "công tác của Cụm, Khối thi đua thuộc Viện kiểm sát nhân dân tỉnh."),
                _clause("2", "Quy chế không điều chỉnh việc xét khen thưởng thường xuyên của "
                        "Hội đồng Thi đua - Khen thưởng ngành."),
            ),
            _node("article", "2", "Đối tượng áp dụng",
                  "Quy chế áp dụng đối với các phòng nghiệp vụ, Văn phòng, Thanh tra và các Viện "
                  "kiểm sát nhân dân khu vực thuộc Viện kiểm sát nhân dân tỉnh."),
            _node("article", "3", "Nguyên tắc tổ chức và hoạt động", "",
                _clause("1", "Tự nguyện, tự giác, công khai, dân chủ, đoàn kết, hợp tác."),
                _clause("2", "Bảo đảm tính chính xác, công bằng, kịp thời trong chấm điểm, "
                        "xếp loại thi đua."),
            ),
        ),
        _node("chapter", "II", "TỔ CHỨC CỤM, KHỐI THI ĐUA", "",
            _node("article", "4", "Cụm, Khối thi đua; Cụm trưởng, Cụm phó", "",
                _clause("1", "Cụm thi đua gồm các Viện kiểm sát nhân dân khu vực; Khối thi đua "
                        "gồm các phòng nghiệp vụ, Văn phòng và Thanh tra. Mỗi Cụm, Khối có Cụm "
                        "trưởng (Khối trưởng) và Cụm phó (Khối phó)."),
                _clause("2", "Cụm trưởng, Cụm phó được luân phiên hằng năm. Đơn vị không đủ "
                        "điều kiện xét thi đua năm trước thì không làm Cụm trưởng năm sau."),
                _clause("3", "Danh sách Cụm, Khối thi đua do Viện trưởng quyết định hằng năm."),
            ),
            _node("article", "5", "Nhiệm vụ, quyền hạn của Cụm trưởng", "",
                _clause("1", "Xây dựng và triển khai kế hoạch hoạt động của Cụm."),
                _clause("2", "Chủ trì sinh hoạt Cụm, sơ kết sáu tháng và tổng kết năm."),
                _clause("3", "Tổ chức chấm chéo, bình xét thi đua giữa các đơn vị trong Cụm."),
                _clause("4", "Tổng hợp kết quả, đề nghị khen thưởng gửi Thường trực Hội đồng, "
                        "gồm:",
                    _point("a", "Biên bản họp Cụm;"),
                    _point("b", "Bảng tổng hợp điểm của các đơn vị;"),
                    _point("c", "Tờ trình đề nghị khen thưởng."),
                ),
            ),
            _node("article", "6", "Ký kết giao ước thi đua", "",
                _clause("1", "Hội nghị ký kết giao ước thi đua của Cụm, Khối được tổ chức trước "
                        "ngày 31 tháng 3 hằng năm."),
                _clause("2", "Nội dung giao ước bám sát chỉ tiêu, nhiệm vụ công tác của ngành "
                        "và của từng đơn vị."),
            ),
        ),
        _node("chapter", "III", "CHẤM ĐIỂM, BÌNH XÉT THI ĐUA", "",
            _node("article", "7", "Chấm điểm, xếp loại thi đua", "",
                _clause("1", "Các đơn vị tự chấm điểm theo Bảng tiêu chí chấm điểm, xếp loại "
                        "thi đua do Viện trưởng ban hành."),
                _clause("2", "Cụm trưởng tổ chức họp Cụm để chấm chéo, bình xét và gửi kết quả "
                        "về Văn phòng."),
                _clause("3", "Thường trực Hội đồng thẩm định kết quả trước khi trình Hội đồng."),
                _clause("4", "Đơn vị bị trừ điểm khi có một trong các trường hợp sau:",
                    _point("a", "Chậm gửi báo cáo, hồ sơ thi đua;"),
                    _point("b", "Báo cáo số liệu không chính xác;"),
                    _point("c", "Không tham gia sinh hoạt Cụm mà không có lý do chính đáng;"),
                    _point("d", "Không thực hiện chấm chéo theo kế hoạch;"),
                    _point("đ", "Không thực hiện đầy đủ chế độ thông tin, báo cáo."),
                ),
            ),
            _node("article", "8", "Bình xét thi đua", "",
                _clause("1", "Việc bình xét được tiến hành tại hội nghị tổng kết của Cụm, Khối; "
                        "có thể họp trực tuyến."),
                _clause("2", "Bình xét bằng hình thức bỏ phiếu kín; đơn vị được đề nghị phải "
                        "đạt trên 50% tổng số phiếu của các đơn vị trong Cụm."),
            ),
            _node("article", "9", "Khen thưởng",
                  "Căn cứ kết quả chấm điểm, xếp loại, Cụm trưởng đề nghị Hội đồng Thi đua - "
                  "Khen thưởng xét tặng Cờ thi đua và danh hiệu Tập thể lao động xuất sắc."),
        ),
        _node("chapter", "IV", "TỔ CHỨC THỰC HIỆN", "",
            _node("article", "10", "Hiệu lực thi hành",
                  "Quy chế này có hiệu lực kể từ ngày ký."),
            _node("article", "11", "Trách nhiệm thi hành", "",
                _clause("1", "Văn phòng là cơ quan Thường trực Hội đồng, có trách nhiệm hướng dẫn, "
                        "theo dõi, đôn đốc việc thực hiện Quy chế."),
                _clause("2", "Trong quá trình thực hiện, nếu có vướng mắc, các đơn vị phản ánh "
                        "về Văn phòng để tổng hợp, báo cáo Viện trưởng."),
            ),
        ),
    ]  # fmt: skip


def _criterion(
    number: str,
    title: str,
    points: float | None,
    guidance: str = "",
    *children: dict,
    kind: str = "criterion",
) -> dict:
    return {"kind": kind, "number": number, "title": title, "max_points": points,
            "guidance": guidance, "children": list(children)}  # fmt: skip


def criteria_nodes() -> list[dict]:
    """Groups I–IV for 100 points, a bonus capped at 5, and uncapped deductions."""
    c = _criterion
    return [
        c("I", "Thực hiện các chỉ tiêu nghiệp vụ trọng tâm", 50, "",
            c("1", "Thực hành quyền công tố, kiểm sát giải quyết tố giác, tin báo về tội phạm",
              15, "",
                c("1.1", "Kiểm sát 100% tố giác, tin báo về tội phạm", 5,
                  "Thiếu 1% trừ 0,5 điểm"),
                c("1.2", "Tỷ lệ giải quyết tố giác, tin báo đạt trên 90%", 5,
                  "Thiếu 1% trừ 0,5 điểm"),
                c("1.3", "Không có trường hợp bắt, tạm giữ oan, sai", 5,
                  "Mỗi trường hợp trừ 2,5 điểm"),
            ),
            c("2", "Thực hành quyền công tố, kiểm sát điều tra, truy tố, xét xử án hình sự", 20, "",
                c("2.1", "Truy tố đúng thời hạn 100% số bị can", 10,
                  "Mỗi bị can truy tố quá hạn trừ 1 điểm"),
                c("2.2", "Tỷ lệ kháng nghị phúc thẩm được chấp nhận đạt từ 70% trở lên", 10,
                  "Thiếu 5% trừ 1 điểm"),
            ),
            c("3", "Kiểm sát giải quyết các vụ, việc dân sự, hành chính", 15, "",
                c("3.1", "Kiểm sát 100% bản án, quyết định của Tòa án", 7.5,
                  "Thiếu 1% trừ 0,5 điểm"),
                c("3.2", "Phát hiện vi phạm, ban hành kiến nghị khắc phục", 7.5,
                  "Mỗi kiến nghị được chấp nhận cộng 0,5 điểm, tối đa 7,5 điểm"),
            ),
        ),
        c("II", "Công tác xây dựng ngành, quản lý, chỉ đạo, điều hành", 25, "",
            c("1", "Chấp hành chế độ thông tin, báo cáo, thống kê", 10,
              "Mỗi lần chậm báo cáo trừ 1 điểm"),
            c("2", "Ứng dụng công nghệ thông tin, chuyển đổi số", 5),
            c("3", "Công tác tổ chức cán bộ, đào tạo, bồi dưỡng", 10),
        ),
        c("III", "Công tác thi đua, khen thưởng và hoạt động của Cụm, Khối", 15, "",
            c("1", "Tham gia đầy đủ các hoạt động của Cụm, Khối thi đua", 10,
              "Mỗi lần vắng không có lý do trừ 2 điểm"),
            c("2", "Tổ chức phong trào thi đua, nhân rộng điển hình tiên tiến", 5),
        ),
        c("IV", "Công tác văn phòng, tài chính, quản lý kho vật chứng", 10, "",
            c("1", "Quản lý tài chính, tài sản đúng quy định", 5),
            c("2", "Quản lý kho vật chứng an toàn, đúng quy định", 5),
        ),
        c("", "Điểm thưởng", 5, "Tối đa 5 điểm",
            c("1", "Có sáng kiến, cách làm hay được cấp trên công nhận", 2.5, "", kind="bonus"),
            c("2", "Được Viện kiểm sát nhân dân tối cao khen thưởng đột xuất", 2.5, "",
              kind="bonus"),
            kind="bonus",
        ),
        c("", "Điểm trừ", None, "Không giới hạn",
            c("1", "Đơn vị có cán bộ bị kỷ luật từ khiển trách trở lên", None,
              "Mỗi trường hợp trừ 5 điểm", kind="deduction"),
            c("2", "Có án bị hủy để điều tra lại do lỗi chủ quan", None,
              "Mỗi vụ trừ 2 điểm", kind="deduction"),
            kind="deduction",
        ),
    ]  # fmt: skip


def criteria_title(year: int) -> str:
    return f"Bảng tiêu chí chấm điểm, xếp loại thi đua năm {year}"


def load_demo(units: dict[str, Unit], year: int) -> None:
    """Idempotent: running the demo twice changes nothing."""
    drafter = db.session.scalar(select(User).where(User.username == DRAFTER))
    if drafter is None:
        return
    unit = units.get("VP", drafter.unit)
    _regulation(drafter, unit)
    _criteria(drafter, unit, year)
    db.session.flush()


def _existing(title: str) -> Draft | None:
    return db.session.scalar(select(Draft).where(Draft.title == title))


def _regulation(drafter: User, unit: Unit) -> None:
    if _existing(REGULATION_TITLE) is not None:
        return
    draft = operations.create_draft(
        title=REGULATION_TITLE, kind=DraftKind.REGULATION, drafting_unit=unit, actor=drafter
    )
    version = operations.create_version(draft, actor=drafter, nodes=regulation_nodes())
    db.session.flush()
    operations.publish_version(version, actor=drafter)


def _criteria(drafter: User, unit: Unit, year: int) -> None:
    title = criteria_title(year)
    if _existing(title) is not None:
        return
    draft = operations.create_draft(
        title=title, kind=DraftKind.CRITERIA, drafting_unit=unit, actor=drafter
    )
    version = operations.create_version(draft, actor=drafter, nodes=criteria_nodes())
    db.session.flush()
    operations.publish_version(version, actor=drafter)
    # Adopted before the emulation year opens on 01/12, or today if the demo runs earlier.
    decided = min(date(year - 1, 11, 25), local_today())
    operations.adopt_draft(draft, version, "125/QĐ-VKS", decided, SIGNER, drafter)
