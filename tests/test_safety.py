"""Nothing runs code it was handed: no remote model code, no pickles, no unsafe YAML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from xmir.errors import XmirError
from xmir.sweep.spec import load_spec

SOURCES = sorted(
    path
    for folder in ("src", "benchmarks", "examples")
    for path in (Path(__file__).parents[1] / folder).rglob("*.py")
)
FORBIDDEN = {
    r"trust_remote_code\s*=\s*True": "remote model code",
    r"yaml\.(load|full_load|unsafe_load)\(": "YAML beyond safe_load",
    r"\bpickle\.loads?\(": "unpickling",
    r"allow_pickle\s*=\s*True": "numpy pickles",
    r"(?<![.\w])(eval|exec)\(": "evaluating text",
}


def test_the_sources_were_found() -> None:
    assert any(path.name == "registry.py" for path in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.name))
def test_no_unsafe_loading_in_the_sources(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for pattern, what in FORBIDDEN.items():
        assert not re.search(pattern, text), f"{path.name}: {what}"
    for call in re.finditer(r"torch\.load\(([^()]|\([^()]*\))*\)", text):
        assert "weights_only=True" in call.group(0), f"{path.name}: {call.group(0)}"


def test_models_load_without_remote_code(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentence_transformers

    from xmir.models.registry import load_model

    seen: list[dict[str, Any]] = []
    real = sentence_transformers.SentenceTransformer

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", recording)
    load_model(str(tiny_model_dir))
    assert seen and all(kwargs.get("trust_remote_code") is False for kwargs in seen)


def test_a_spec_cannot_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    spec = tmp_path / "evil.yaml"
    spec.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(
        XmirError, match=r"unsafe YAML tag !!python/object/apply:os\.system refused"
    ):
        load_spec(spec)
    assert not marker.exists()


def test_a_folder_asking_for_remote_code_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    import json
    import shutil

    from xmir.models.registry import load_model

    folder = tmp_path / "custom"
    shutil.copytree(tiny_model_dir, folder)
    config = folder / "sentence_bert_config.json"
    settings = json.loads(config.read_text())
    config.write_text(json.dumps({**settings, "trust_remote_code": True}))
    with pytest.raises(XmirError, match=r"sentence_bert_config\.json sets trust_remote_code"):
        load_model(str(folder))
