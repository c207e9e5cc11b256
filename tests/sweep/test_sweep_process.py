"""The error line a failed child leaves in its log (what status.json records)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.sweep.process import error_line

RICH_BOX = """\
Usage: xmir train [OPTIONS]
Try 'xmir train --help' for help.
╭─ Error ──────────────────────────────────────────────────────────────────────╮
│ No such option: --lerning-rate Did you mean                                  │
│ --learning-rate?                                                             │
╰──────────────────────────────────────────────────────────────────────────────╯
"""
CLICK_PLAIN = """\
Usage: xmir train [OPTIONS]
Try 'xmir train --help' for help.

Error: No such option: --lerning-rate
"""
TRACEBACK = """\
Traceback (most recent call last):
  File "x.py", line 1, in <module>
RuntimeError: the data loader does not follow the batch plan
"""
XMIR_ERROR = "step 3\n\x1b[1;31merror:\x1b[0m --alpha applies to --strategy hybrid only\n"
TABLE_LAST = "error: first\n┏━━━┓\n┃ a ┃\n┗━━━┛\n"


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        (RICH_BOX, "No such option: --lerning-rate Did you mean --learning-rate?"),
        (CLICK_PLAIN, "Error: No such option: --lerning-rate"),
        (TRACEBACK, "RuntimeError: the data loader does not follow the batch plan"),
        (XMIR_ERROR, "error: --alpha applies to --strategy hybrid only"),
        (TABLE_LAST, "error: first"),
        ("progress\n╰──────╯\n", "progress"),
        ("\n\n", "the process printed nothing"),
    ],
)
def test_the_real_message_never_box_characters(tmp_path: Path, log: str, expected: str) -> None:
    path = tmp_path / "train.log"
    path.write_text(log, encoding="utf-8")
    line = error_line(path)
    assert line == expected
    assert not any("\u2500" <= char <= "\u257f" for char in line)


def test_a_missing_log(tmp_path: Path) -> None:
    assert error_line(tmp_path / "none.log") == "no log written"
