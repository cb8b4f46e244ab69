"""Demo content for this package (filled in as the package grows)."""

from __future__ import annotations

from accounts.models import Unit


def load_demo(units: dict[str, Unit], year: int) -> None:
    """Idempotent: running the demo twice changes nothing."""
