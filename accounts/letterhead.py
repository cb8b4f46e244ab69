"""Who issues and who signs an official document, from the configuration and the database.

`accounts.officedoc` lays the document out; this module fills its `Signer` and agency names for
`comments` and `workflow` alike: AGENCY_NAME and AGENCY_PLACE name the agency; the person who
signs the agency's documents (e.g. "KT. VIỆN TRƯỞNG" / "PHÓ VIỆN TRƯỞNG" / name) is the one an
administrator set in the app, else SIGNER_AUTHORITY, SIGNER_TITLE and SIGNER_NAME. A unit's own
documents are signed by its head.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from accounts.models import DocumentSigner, Role, Unit, UnitKind, User, UserRole
from accounts.officedoc import Signer
from extensions import db

# Who signs for a unit, by the kind of unit.
SIGNER_TITLES = {
    UnitKind.OFFICE: "CHÁNH VĂN PHÒNG",
    UnitKind.DEPARTMENT: "TRƯỞNG PHÒNG",
    UnitKind.INSPECTION: "CHÁNH THANH TRA",
    UnitKind.REGIONAL: "VIỆN TRƯỞNG",
}
AGENCY_HEAD_TITLE = "VIỆN TRƯỞNG"


def agency_name() -> str:
    """ "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG", from AGENCY_NAME and AGENCY_PLACE."""
    name, place = current_app.config["AGENCY_NAME"].strip(), current_app.config["AGENCY_PLACE"]
    return name if name.upper().endswith(place.upper()) else f"{name} {place.upper()}"


def agency_in_sentence() -> str:
    """ "Viện kiểm sát nhân dân tỉnh Bắc Giang"."""
    name, place = current_app.config["AGENCY_NAME"].strip(), current_app.config["AGENCY_PLACE"]
    if name.upper().endswith(place.upper()):
        name = name[: -len(place)].strip()
    return f"{name.capitalize() if name.isupper() else name} {place}"


def agency_place() -> str:
    return str(current_app.config["AGENCY_PLACE"])


def signer_title(unit: Unit) -> str:
    return SIGNER_TITLES.get(unit.kind, "THỦ TRƯỞNG ĐƠN VỊ")


def unit_head(unit: Unit) -> User | None:
    return db.session.scalars(
        select(User)
        .join(UserRole)
        .where(User.unit_id == unit.id, User.active, UserRole.role == Role.UNIT_HEAD)
        .order_by(User.id)
        .limit(1)
    ).first()


def agency_signer() -> Signer | None:
    """The signer of the agency's documents: as an administrator set it in the app, else from
    SIGNER_*; None when neither names anyone."""
    row = db.session.scalars(select(DocumentSigner).order_by(DocumentSigner.id).limit(1)).first()
    if row is not None and row.name:
        return Signer(title=row.title or AGENCY_HEAD_TITLE, name=row.name, authority=row.authority)
    config = current_app.config
    name = config["SIGNER_NAME"].strip()
    if not name:
        return None
    return Signer(
        title=config["SIGNER_TITLE"].strip().upper() or AGENCY_HEAD_TITLE,
        name=name,
        authority=config["SIGNER_AUTHORITY"].strip().upper(),
    )


def unit_signer(unit: Unit, person: User | None = None) -> Signer:
    """The unit's head signs (or `person`, who signed the unit's position)."""
    person = person or unit_head(unit)
    return Signer(title=signer_title(unit), name=person.full_name if person else "")


def issuing_signer(unit: Unit) -> Signer:
    """For a document the unit drafts in the agency's name: the configured signer if any,
    else the unit's head."""
    return agency_signer() or unit_signer(unit)
