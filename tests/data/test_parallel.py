"""Parallel training readers: LAReQA, translated-SQuAD and mMARCO layouts, hub, dispatch."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from xmir.data.parallel import (
    ParallelItem,
    detect_format,
    load_hub_pairs,
    load_training_data,
    read_lareqa_items,
    read_mmarco_dir,
    read_squad_dir,
)
from xmir.errors import XmirError


def _paragraph(qid: str, lang: str, with_breaks: bool = True) -> dict:
    first = f"Intro {qid} {lang}."
    answer = f"The answer {qid} {lang} is here."
    context = f"{first} {answer}"
    paragraph = {
        "context": context,
        "qas": [
            {
                "id": qid,
                "question": f"Where is {qid} in {lang}?",
                "answers": [{"text": "here", "answer_start": context.index("here")}],
            }
        ],
    }
    if with_breaks:
        paragraph["sentences"] = [first, answer]
        paragraph["sentence_breaks"] = [[0, len(first)], [len(first) + 1, len(context)]]
    return paragraph


def _write_squad(path: Path, lang_ids: dict[str, list[str]], *, breaks: bool = True) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for lang, ids in lang_ids.items():
        payload = {
            "version": "1.1",
            "data": [{"title": "t", "paragraphs": [_paragraph(q, lang, breaks) for q in ids]}],
        }
        raw = json.dumps(payload).encode()
        if lang == "de":  # one gzipped file with a dotted prefix, like xquad.de.json.gz
            (path / f"xquad.{lang}.json.gz").write_bytes(gzip.compress(raw))
        else:
            (path / f"{lang}.json").write_bytes(raw)


def test_squad_dir_paragraph_and_sentence_positives(tmp_path: Path) -> None:
    folder = tmp_path / "translated"
    _write_squad(folder, {"en": ["q1", "q2"], "de": ["q1", "q2"], "es": ["q2"]})
    data = read_squad_dir(folder, positive_unit="paragraph")
    assert data.languages == ("de", "en", "es")
    assert len(data.items) == 5
    item = next(i for i in data.items if i.item_id == "q2" and i.language == "es")
    assert item == ParallelItem(
        "q2", "es", "Where is q2 in es?", "Intro q2 es. The answer q2 es is here."
    )
    assert set(data.source["file_sha256"]) == {"xquad.de.json.gz", "en.json", "es.json"}
    assert data.source["positive"] == "paragraph"

    sentences = read_squad_dir(folder, positive_unit="sentence", languages=["de"])
    assert [i.positive for i in sentences.items] == [
        "The answer q1 de is here.",
        "The answer q2 de is here.",
    ]
    assert sentences.source["positive"] == "answer sentence"


def test_squad_sentence_positive_needs_breaks(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    _write_squad(folder, {"en": ["q1"]}, breaks=False)
    assert read_squad_dir(folder).items[0].positive.startswith("Intro")
    with pytest.raises(XmirError, match="sentence_breaks"):
        read_squad_dir(folder, positive_unit="sentence")


def test_squad_errors(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    _write_squad(folder, {"en": ["q1"]})
    with pytest.raises(XmirError, match="unknown language code"):
        read_squad_dir(folder, languages=["fr"])
    (folder / "fr.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(XmirError, match="not valid"):
        read_squad_dir(folder, languages=["fr"])
    (folder / "fr.json").write_text(json.dumps({"data": [{"nope": []}]}), encoding="utf-8")
    with pytest.raises(XmirError, match="not SQuAD"):
        read_squad_dir(folder, languages=["fr"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(XmirError, match="no SQuAD json"):
        read_squad_dir(empty)


def test_duplicate_item_in_one_language_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "dupes"
    _write_squad(folder, {"en": ["q1", "q1"]})
    with pytest.raises(XmirError, match="appears twice"):
        read_squad_dir(folder)


def test_lareqa_reader_on_written_files(tmp_path: Path) -> None:
    folder = tmp_path / "mlqa-r"
    _write_squad(folder, {"en": ["q1", "q2"], "es": ["q1"]})
    # es.json and en.json are what load_lareqa reads; drop the dotted de file it would not find
    data = read_lareqa_items("mlqa-r", data_dir=folder, languages=["en", "es"])
    by_key = {(i.item_id, i.language): i for i in data.items}
    assert set(by_key) == {("q1", "en"), ("q2", "en"), ("q1", "es")}
    assert by_key[("q1", "es")].positive == "The answer q1 es is here."
    assert by_key[("q1", "es")].query == "Where is q1 in es?"
    with_context = read_lareqa_items(
        "mlqa-r", data_dir=folder, languages=["en", "es"], with_context=True
    )
    item = next(i for i in with_context.items if i.item_id == "q1" and i.language == "es")
    assert item.positive == "The answer q1 es is here. Intro q1 es. The answer q1 es is here."
    assert "The answer q1 es is here." in with_context.texts()
    assert "Intro q1 es. The answer q1 es is here." in with_context.texts()


def test_lareqa_reader_on_real_mlqa_r(data_dir: Path) -> None:
    data = read_lareqa_items("mlqa-r", data_dir=data_dir)
    assert len(data.items) == 4199
    assert len({i.item_id for i in data.items}) == 1148
    assert data.summary()["items_per_language"]["en"] == 1148
    for item in data.items[:50]:
        assert item.positive and item.query and item.negative is None


def _tsv(path: Path, rows: list[tuple[str, ...]], *, gz: bool = False, sep: str = "\t") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(sep.join(row) + "\n" for row in rows).encode()
    if gz:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(text))
    else:
        path.write_bytes(text)


def _write_mmarco(root: Path) -> None:
    _tsv(root / "qrels.tsv", [("1", "0", "10", "1"), ("2", "0", "20", "1"), ("2", "0", "21", "1")])
    _tsv(root / "triples.tsv", [("1", "10", "11"), ("1", "10", "12"), ("2", "20", "22")])
    for lang, word in (("en", "hello"), ("pt", "ola")):
        _tsv(root / lang / "queries.tsv", [("1", f"{word} query one"), ("2", f"{word} query two")])
        passages = [(str(pid), f"{word} passage {pid}") for pid in (10, 11, 12, 20, 21, 22, 99)]
        _tsv(root / lang / "collection.tsv", passages, gz=lang == "pt")


def test_mmarco_layout(tmp_path: Path) -> None:
    root = tmp_path / "mmarco"
    _write_mmarco(root)
    assert detect_format(root) == "mmarco"
    data = read_mmarco_dir(root)
    by_key = {(i.item_id, i.language): i for i in data.items}
    assert by_key[("1", "en")] == ParallelItem(
        "1", "en", "hello query one", "hello passage 10", "hello passage 11"
    )
    assert by_key[("2", "pt")] == ParallelItem(
        "2", "pt", "ola query two", "ola passage 20", "ola passage 22"
    )
    collection = root / "pt" / "collection.tsv.gz"
    assert (
        data.source["file_sha256"]["pt/collection.tsv.gz"]
        == hashlib.sha256(collection.read_bytes()).hexdigest()
    )
    assert len(data.source["file_sha256"]) == 6


def test_mmarco_per_language_qrels_and_errors(tmp_path: Path) -> None:
    root = tmp_path / "mmarco"
    _write_mmarco(root)
    _tsv(root / "en" / "qrels.tsv", [("1", "12")])  # two-column qrels override the shared one
    data = read_mmarco_dir(root, languages=["en"])
    assert {i.item_id: i.positive for i in data.items} == {"1": "hello passage 12"}
    (root / "pt" / "collection.tsv.gz").unlink()
    with pytest.raises(XmirError, match=r"collection\.tsv"):
        read_mmarco_dir(root)
    _tsv(root / "en" / "queries.tsv", [("1",)])
    with pytest.raises(XmirError, match="expected 'id<TAB>text'"):
        read_mmarco_dir(root, languages=["en"])


def test_mmarco_triples_give_the_positives_without_qrels(tmp_path: Path) -> None:
    root = tmp_path / "mmarco"
    _write_mmarco(root)
    (root / "qrels.tsv").unlink()
    data = read_mmarco_dir(root, languages=["en"])
    assert {i.item_id: (i.positive, i.negative) for i in data.items} == {
        "1": ("hello passage 10", "hello passage 11"),
        "2": ("hello passage 20", "hello passage 22"),
    }
    assert data.source["positive"] == "first triple's positive"
    (root / "triples.tsv").unlink()
    with pytest.raises(XmirError, match=r"no qrels\.tsv"):
        read_mmarco_dir(root, languages=["en"])


def test_hub_loader_offline_and_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    import xmir.hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(xmir.hub, "hub_reachable", lambda timeout_s=3.0: False)
    with pytest.raises(
        XmirError, match="hub dataset 'org/pairs': the Hugging Face hub is unreachable"
    ):
        load_training_data("hf:org/pairs")
    monkeypatch.setattr(xmir.hub, "hub_reachable", lambda timeout_s=3.0: True)

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("hub unreachable")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(XmirError, match="could not load hub dataset 'org/pairs'"):
        load_training_data("hf:org/pairs")

    table = datasets.Dataset.from_dict(
        {
            "item_id": ["a", "a", "b"],
            "language": ["en", "de", "en"],
            "query": ["q en", "q de", "q2 en"],
            "positive": ["p en", "p de", "p2 en"],
        }
    )
    calls: list[tuple] = []

    def fake(repo: str, config: str | None, **kwargs: object) -> datasets.Dataset:
        calls.append((repo, config, kwargs["split"]))
        return table

    monkeypatch.setattr(datasets, "load_dataset", fake)
    data = load_hub_pairs("org/pairs:cfg", languages=["de"])
    assert calls == [("org/pairs", "cfg", "train")]
    assert data.items == [ParallelItem("a", "de", "q de", "p de")]
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: table.remove_columns("query"))
    with pytest.raises(XmirError, match="lacks column"):
        load_hub_pairs("org/pairs")


def test_dispatch(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match="neither a file/folder"):
        load_training_data(str(tmp_path / "missing"))
    folder = tmp_path / "translated"
    _write_squad(folder, {"en": ["q1"], "de": ["q1"]})
    assert load_training_data(str(folder)).source["format"] == "squad"
    lareqa_style = load_training_data(str(folder), train_format="lareqa")
    assert lareqa_style.source["positive"] == "answer sentence"
    assert lareqa_style.source["format"] == "lareqa"
    with pytest.raises(XmirError, match="unknown --train-format"):
        load_training_data(str(folder), train_format="csv")
    with pytest.raises(XmirError, match="drop --train-format"):
        load_training_data("mlqa-r", train_format="squad")
    odd = tmp_path / "odd"
    odd.mkdir()
    with pytest.raises(XmirError, match="cannot tell"):
        load_training_data(str(odd))


def test_options_a_format_would_ignore_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "translated"
    _write_squad(folder, {"en": ["q1"], "de": ["q1"]})
    assert load_training_data(str(folder), positive_unit="sentence").source["format"] == "squad"
    with pytest.raises(XmirError, match=r"--with-context applies to mlqa-r / xquad-r"):
        load_training_data(str(folder), with_context=True)
    with pytest.raises(XmirError, match=r"--max-questions applies to mlqa-r / xquad-r"):
        load_training_data(str(folder), train_format="lareqa", max_questions=3)
    with pytest.raises(XmirError, match=r"--positive applies to a --train-format squad folder"):
        load_training_data(str(folder), train_format="lareqa", positive_unit="paragraph")
    with pytest.raises(XmirError, match=r"--positive applies to a --train-format squad folder"):
        load_training_data("mlqa-r", positive_unit="paragraph")
    with pytest.raises(XmirError, match=r"hub dataset; drop --train-format"):
        load_training_data("hf:org/pairs", train_format="squad")
    with pytest.raises(XmirError, match=r"--with-context and --max-questions apply to mlqa-r"):
        load_training_data("hf:org/pairs", with_context=True, max_questions=2)
    mmarco = tmp_path / "mmarco"
    _write_mmarco(mmarco)
    with pytest.raises(XmirError, match=r"--positive applies .* not to --train-data"):
        load_training_data(str(mmarco), positive_unit="sentence")
