"""The LAReQA reader on the real files and on small broken files written by the tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from xmir.data.lareqa import load_lareqa
from xmir.errors import XmirError


def test_xquad_r_matches_published_counts(data_dir: Path) -> None:
    rset = load_lareqa("xquad-r", data_dir)
    assert (rset.num_queries, rset.num_candidates) == (13_090, 13_014)
    assert all(len(r) == 11 for r in rset.relevant)
    assert len(set(rset.query_ids)) == 1190
    for q in range(0, rset.num_queries, 997):
        gold = rset.gold_own_language[q]
        assert rset.candidate_langs[gold] == rset.query_langs[q]
        assert gold in rset.relevant[q]
        assert sorted(rset.candidate_langs[c] for c in rset.relevant[q]) == sorted(rset.languages)


def test_mlqa_r_matches_published_counts(data_dir: Path) -> None:
    rset = load_lareqa("mlqa-r", data_dir)
    assert (rset.num_queries, rset.num_candidates) == (4_199, 20_534)
    assert {len(r) for r in rset.relevant} == {2, 3, 4}
    english = {
        c for q, rel in enumerate(rset.relevant) for c in rel if rset.candidate_langs[c] == "en"
    }
    assert len(english) == 1148  # English is always one of an id's languages


def test_gold_sentence_contains_the_answer(data_dir: Path) -> None:
    rset = load_lareqa("xquad-r", data_dir, ["en"])
    raw = _read_gz_json(data_dir / "xquad-r" / "en.json.gz")
    answers = {
        qa["id"]: qa["answers"][0]["text"]
        for article in raw["data"]
        for p in article["paragraphs"]
        for qa in p["qas"]
    }
    contained = sum(
        answers[qid] in rset.candidate_texts[gold]
        for qid, gold in zip(rset.query_ids, rset.gold_own_language, strict=True)
    )
    assert contained / rset.num_queries > 0.97  # answers may straddle a sentence break


def test_subset_keeps_parallel_questions(data_dir: Path) -> None:
    rset = load_lareqa("xquad-r", data_dir, ["en", "de"], max_questions=10)
    ids = len(set(rset.query_ids))
    assert ids >= 10 and rset.num_queries == 2 * ids
    assert rset.subset_record is not None and rset.subset_record["question_ids"] == ids
    assert rset.subset.startswith(f"{ids} question ids from ")
    assert all(len(r) == 2 for r in rset.relevant)


def test_subset_samples_whole_paragraphs_across_articles(data_dir: Path) -> None:
    full = load_lareqa("xquad-r", data_dir, ["en"])
    rset = load_lareqa("xquad-r", data_dir, ["en"], max_questions=300, subset_seed=0)
    record = rset.subset_record
    assert record is not None
    # About N ids: whole paragraphs are taken until N is reached, so at most one paragraph over.
    assert 300 <= record["question_ids"] < 300 + 15
    # Stratified: every one of the 48 articles is visited before any gets a second paragraph.
    assert record["articles"] == record["articles_available"] == 48
    # Whole paragraphs: every sentence of a kept paragraph is in the pool.
    contexts = set(rset.candidate_contexts)
    assert len(contexts) == record["paragraphs"]
    full_sentences = {c: sum(ctx == c for ctx in full.candidate_contexts) for c in contexts}
    assert all(rset.candidate_contexts.count(c) == n for c, n in full_sentences.items())
    # Sorted ids would cluster in a few articles; the sample must not be the first N.
    first_ids = sorted(set(full.query_ids))[:300]
    assert set(rset.query_ids) != set(first_ids)
    again = load_lareqa("xquad-r", data_dir, ["en"], max_questions=300, subset_seed=0)
    other = load_lareqa("xquad-r", data_dir, ["en"], max_questions=300, subset_seed=1)
    assert again.query_ids == rset.query_ids
    assert set(other.query_ids) != set(rset.query_ids)


def test_mlqa_subset_groups_ids_by_their_english_article(data_dir: Path) -> None:
    rset = load_lareqa("mlqa-r", data_dir, max_questions=40, subset_seed=3)
    record = rset.subset_record
    assert record is not None and record["question_ids"] >= 40
    # Every translation of a kept id is kept, so each id has its 2-4 relevant candidates.
    assert all(2 <= len(r) <= 4 for r in rset.relevant)


def _read_gz_json(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _write(folder: Path, lang: str, payload: object, gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = payload if isinstance(payload, str) else json.dumps(payload)
    path = folder / (f"{lang}.json.gz" if gz else f"{lang}.json")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def _paragraph(answer_start: int) -> dict:
    return {
        "context": "One two. Three four.",
        "sentences": ["One two.", " Three four."],
        "sentence_breaks": [[0, 8], [8, 20]],
        "qas": [
            {
                "id": "q1",
                "question": "What?",
                "answers": [{"text": "x", "answer_start": answer_start}],
            }
        ],
    }


def test_reads_plain_and_gz_files(tmp_path: Path) -> None:
    _write(tmp_path / "xquad-r", "en", {"data": [{"paragraphs": [_paragraph(10)]}]})
    _write(tmp_path / "xquad-r", "de", {"data": [{"paragraphs": [_paragraph(2)]}]}, gz=True)
    rset = load_lareqa("xquad-r", tmp_path, ["en", "de"], max_questions=5)
    assert rset.query_langs == ["de", "en"]  # the dataset's language order, not the argument's
    assert rset.relevant == [[0, 3], [0, 3]]
    assert rset.gold_own_language == [0, 3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid"),
        ({"version": 1}, "expected data"),
        ({"data": [{"paragraphs": [{"context": "x", "qas": []}]}]}, "plain SQuAD"),
        ({"data": [{"paragraphs": [_paragraph(40)]}]}, "lies in 0 sentences"),
        ({"data": []}, "empty pool"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, content: object, message: str) -> None:
    path = _write(tmp_path, "en", content)
    with pytest.raises(XmirError, match=message) as error:
        load_lareqa("xquad-r", tmp_path, ["en"])
    if message != "empty pool":
        assert str(path) in str(error.value)


def test_unknown_language_dataset_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match=r"unknown language code.*xx"):
        load_lareqa("xquad-r", tmp_path, ["en", "xx"])
    with pytest.raises(XmirError, match="unknown LAReQA dataset"):
        load_lareqa("squad", tmp_path)
    with pytest.raises(XmirError, match="missing language file"):
        load_lareqa("xquad-r", tmp_path, ["en"])
    with pytest.raises(XmirError, match="does not exist"):
        load_lareqa("xquad-r", tmp_path / "nowhere", ["en"])


def test_incomplete_full_set_fails_the_count_check(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "xquad-r"
    for lang in ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"):
        source = data_dir / "xquad-r" / f"{lang}.json.gz"
        payload = _read_gz_json(source)
        if lang == "th":
            payload["data"] = payload["data"][:-1]
        _write(folder, lang, payload, gz=True)
    with pytest.raises(XmirError, match="published counts"):
        load_lareqa("xquad-r", tmp_path)
