"""Shared CLI pieces: the --languages parser used by eval and train."""

from __future__ import annotations

import pytest

from xmir.commands.common import parse_languages
from xmir.errors import XmirError


def test_parse_languages() -> None:
    assert parse_languages(None) is None
    assert parse_languages("ar, de,en") == ["ar", "de", "en"]
    with pytest.raises(XmirError, match="has an empty entry"):
        parse_languages("ar,,de")
