"""Every Python snippet in the README runs as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
FENCE = re.compile(r"^( *)```python\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def _snippets() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [textwrap.dedent(match.group(2)) for match in FENCE.finditer(text)]


def _case(snippet: str) -> object:
    """Snippets that load the real offline encoder are slow (first build: about 15 s)."""
    marks = [pytest.mark.slow] if "load_model(" in snippet else []
    return pytest.param(snippet, marks=marks, id=snippet.strip().splitlines()[0][:40])


def test_the_readme_has_python_snippets() -> None:
    assert len(_snippets()) >= 2


@pytest.mark.parametrize("snippet", [_case(s) for s in _snippets()])
def test_a_readme_snippet_runs_as_written(
    snippet: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xmir.paths import DATA_DIR_ENV

    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))  # absolute: the snippet runs elsewhere
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, str(README), "exec"), {"__name__": "readme"})
