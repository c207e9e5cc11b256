"""Choosing languages: every reader validates a ``--languages`` request the same way."""

from __future__ import annotations

from collections.abc import Sequence

from xmir.errors import XmirError


def select_languages(
    requested: Sequence[str] | None,
    available: Sequence[str],
    *,
    source: str,
    keep_requested_order: bool = False,
) -> list[str]:
    """The requested languages (all available ones when none are requested).

    Unknown or repeated codes are a one-line error naming ``source`` and the choices. The
    result follows ``available``'s order unless ``keep_requested_order``.
    """
    if not available:
        raise XmirError(f"{source}: no languages found")
    if not requested:
        return list(available)
    unknown = [lang for lang in requested if lang not in available]
    if unknown:
        raise XmirError(
            f"{source}: unknown language code(s) {', '.join(unknown)}; "
            f"available: {', '.join(available)}"
        )
    if len(set(requested)) != len(requested):
        raise XmirError(f"{source}: language codes are repeated in {','.join(requested)}")
    if keep_requested_order:
        return list(requested)
    return [lang for lang in available if lang in requested]
