"""Numbers read from the query string, bounded in one place.

Every numeric query parameter of the pages and of the API is read here. A value that is
not a whole number, or one outside its range, answers 422 with a plain message naming the
parameter, instead of reaching the database as an offset or an id it cannot
hold (SQLite overflows past 64 bits, PostgreSQL past 32). Page numbers are clamped
instead: ?page=0 is the first page and ?page=10**30 an empty last one.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import request
from flask_babel import gettext as _

from accounts.errors import Invalid

# Database ids are 32-bit on every backend we support.
MAX_ID = 2**31 - 1
# Far beyond any list the app shows; OFFSET stays a small number.
MAX_PAGE = 100_000
# Digits beyond these are refused before Python converts them.
_MAX_DIGITS = 20


def parse_int(
    name: str,
    raw: str,
    *,
    minimum: int | None = 1,
    maximum: int | None = MAX_ID,
    clamp: bool = False,
) -> int:
    """`raw` as an int within [minimum, maximum]; clamped into it when `clamp`."""
    text = raw.strip()
    negative = text.startswith("-")
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        raise Invalid(_("Tham số %(name)s phải là một số nguyên.", name=name))
    # A thousand digits are out of every range; no need to convert them to know it.
    if len(digits) > _MAX_DIGITS:
        value = -(10**_MAX_DIGITS) if negative else 10**_MAX_DIGITS
    else:
        value = int(text)
    if minimum is not None and value < minimum:
        if clamp:
            return minimum
        raise Invalid(_("Tham số %(name)s phải từ %(n)d trở lên.", name=name, n=minimum))
    if maximum is not None and value > maximum:
        if clamp:
            return maximum
        raise Invalid(_("Tham số %(name)s phải không quá %(n)d.", name=name, n=maximum))
    return value


def int_arg(
    name: str,
    default: int | None = None,
    *,
    minimum: int | None = 1,
    maximum: int | None = MAX_ID,
    args: Mapping[str, str] | None = None,
) -> int | None:
    """The query parameter `name` as a bounded int, `default` when absent or empty."""
    raw = (request.args if args is None else args).get(name)
    if raw is None or raw.strip() == "":
        return default
    return parse_int(name, raw, minimum=minimum, maximum=maximum)


def int_list_arg(
    name: str,
    *,
    minimum: int | None = 1,
    maximum: int | None = MAX_ID,
    args: Mapping[str, list[str]] | None = None,
) -> list[int]:
    """Every value of a repeated query (or form) parameter, each a bounded int."""
    source = request.args if args is None else args
    values = source.getlist(name)  # type: ignore[attr-defined]
    return [parse_int(name, raw, minimum=minimum, maximum=maximum) for raw in values]


def page_arg(name: str = "page") -> int:
    """A page number, clamped to 1..MAX_PAGE; not a number at all answers 422."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return 1
    return parse_int(name, raw, minimum=1, maximum=MAX_PAGE, clamp=True)
