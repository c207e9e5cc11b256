"""MIRACL end to end on a small corpus built around real dev topics and qrels.

For each language the corpus holds an invented passage for every docid the chosen topics'
qrels judge (two relevant ones left out, to exercise missing-document counting) plus random
distractors. Per-query nDCG@10 and Recall@100 are checked against pytrec_eval on the run.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xmir.data.miracl import read_qrels, read_topics
from xmir.errors import XmirError
from xmir.evaluate.miracl import MiraclOptions, evaluate_miracl
from xmir.evaluate.miracl_scoring import relevant_ranks
from xmir.models.registry import load_model

LANGUAGES = ("sw", "yo", "zh")
TOPICS_PER_LANGUAGE = 6
DISTRACTORS = 90
DROPPED_RELEVANT = 2
NO_JUDGEMENT_QID = "xmir-unjudged-1"


@dataclass(frozen=True)
class MiraclFixture:
    root: Path
    corpus: Path
    topics: str
    qrels: str
    dropped: dict[str, list[str]]
    qrels_by_lang: dict[str, dict[str, dict[str, int]]]
    corpus_docids: dict[str, set[str]]


def _words(rng: random.Random, pool: list[str], count: int) -> str:
    return " ".join(rng.choice(pool) for _ in range(count))


def build_fixture(root: Path, data_dir: Path) -> MiraclFixture:
    """Subset topic/qrels files and a small corpus per language (real ids, invented text)."""
    rng = random.Random(0)
    dropped: dict[str, list[str]] = {}
    qrels_by_lang: dict[str, dict[str, dict[str, int]]] = {}
    corpus_docids: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        topics = read_topics(data_dir / "miracl" / f"topics.miracl-v1.0-{lang}-dev.tsv.gz")
        qrels = read_qrels(data_dir / "miracl" / f"qrels.miracl-v1.0-{lang}-dev.tsv.gz")
        chosen = list(topics)[:TOPICS_PER_LANGUAGE]
        judged_only = list(topics)[TOPICS_PER_LANGUAGE]  # qrels kept, topic left out
        topic_lines = [f"{q}\t{topics[q]}\n" for q in chosen] + [f"{NO_JUDGEMENT_QID}\tx y z\n"]
        kept = {q: qrels[q] for q in [*chosen, judged_only]}
        qrels_by_lang[lang] = kept
        qrel_lines = [f"{q} Q0 {d} {r}\n" for q, judged in kept.items() for d, r in judged.items()]
        (root / "judgements").mkdir(parents=True, exist_ok=True)
        (root / "judgements" / f"topics.{lang}.tsv").write_text("".join(topic_lines), "utf-8")
        (root / "judgements" / f"qrels.{lang}.tsv").write_text("".join(qrel_lines), "utf-8")
        relevant = [d for q in chosen for d, r in qrels[q].items() if r > 0]
        dropped[lang] = relevant[:DROPPED_RELEVANT]
        vocabulary = sorted({w for q in chosen for w in topics[q].split()})
        records, seen = [], set(dropped[lang])
        for q in chosen:
            for docid, rel in qrels[q].items():
                if docid in seen:
                    continue
                seen.add(docid)
                text = topics[q] if rel > 0 else _words(rng, vocabulary, 5)
                records.append({"docid": docid, "title": f"T {docid}", "text": f"{text} {docid}"})
        for i in range(DISTRACTORS):
            records.append(
                {"docid": f"900{i}#0", "title": "", "text": f"{_words(rng, vocabulary, 7)} {i}"}
            )
        rng.shuffle(records)
        corpus_docids[lang] = {r["docid"] for r in records}
        folder = root / "corpus" / f"miracl-corpus-v1.0-{lang}"
        folder.mkdir(parents=True, exist_ok=True)
        half = len(records) // 2
        for shard, part in enumerate((records[:half], records[half:])):
            with gzip.open(folder / f"docs-{shard}.jsonl.gz", "wt", encoding="utf-8") as handle:
                handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
    return MiraclFixture(
        root=root,
        corpus=root / "corpus",
        topics=str(root / "judgements" / "topics.{lang}.tsv"),
        qrels=str(root / "judgements" / "qrels.{lang}.tsv"),
        dropped=dropped,
        qrels_by_lang=qrels_by_lang,
        corpus_docids=corpus_docids,
    )


@pytest.fixture(scope="module")
def loaded(tiny_model_dir: Path) -> Any:
    """The tiny random encoder, loaded once for this module."""
    return load_model(str(tiny_model_dir), device="cpu")


@pytest.fixture
def fixture(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> MiraclFixture:
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path / "cache"))
    return build_fixture(tmp_path / "miracl", data_dir)


def run_eval(loaded: Any, fx: MiraclFixture, **overrides: Any) -> dict[str, Any]:
    options = {
        "corpus": fx.corpus,
        "languages": LANGUAGES,
        "topics": fx.topics,
        "qrels": fx.qrels,
        "show_progress": False,
        "run_dir": fx.root / "runs",
        "chunk_rows": 64,
        **overrides,
    }
    return evaluate_miracl(loaded, MiraclOptions(**options)).to_dict()


def read_run(path: Path) -> dict[str, dict[str, float]]:
    """A TREC run with scores replaced by the written rank order (independent of score ties)."""
    run: dict[str, dict[str, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        qid, _, docid, rank, _, _ = line.split()
        run.setdefault(qid, {})[docid] = 1000.0 - int(rank)
    return run


def test_metrics_match_pytrec_eval_per_query(loaded: Any, fixture: MiraclFixture) -> None:
    import pytrec_eval

    result = run_eval(loaded, fixture)
    keys = result["per_query"]["keys"]
    for system, prefix in (("dense", ""), ("bm25", "bm25_")):
        block = result if system == "dense" else result["bm25"]
        for lang in LANGUAGES:
            run = read_run(fixture.root / "runs" / f"miracl-{lang}-{system}.trec")
            evaluator = pytrec_eval.RelevanceEvaluator(
                fixture.qrels_by_lang[lang], {"ndcg_cut.10", "recall.100"}
            )
            reference = evaluator.evaluate(run)
            assert len(reference) == TOPICS_PER_LANGUAGE
            for qid, expected in reference.items():
                index = keys.index(f"{qid}|{lang}")
                ndcg = result["per_query"][f"{prefix}ndcg@10"][index]
                recall = result["per_query"][f"{prefix}recall@100"][index]
                assert ndcg == pytest.approx(expected["ndcg_cut_10"], abs=1e-6)
                assert recall == pytest.approx(expected["recall_100"], abs=1e-6)
            summary = block["settings"]["mono"]["per_language"][lang]
            assert summary["ndcg@10"] == pytest.approx(
                np.mean([r["ndcg_cut_10"] for r in reference.values()]), abs=1e-6
            )
            assert summary["recall@100"] == pytest.approx(
                np.mean([r["recall_100"] for r in reference.values()]), abs=1e-6
            )
        mono = block["settings"]["mono"]
        assert mono["ndcg@10"] == pytest.approx(
            np.mean([mono["per_language"][lang]["ndcg@10"] for lang in LANGUAGES])
        )
    # BM25 finds the relevant passages that repeat the query text
    assert result["bm25"]["settings"]["mono"]["recall@100"] > 0.5


def test_counts_cover_missing_docs_and_unjudged_topics(loaded: Any, fixture: MiraclFixture) -> None:
    result = run_eval(loaded, fixture, bm25=False)
    assert "bm25" not in result
    for lang in LANGUAGES:
        counts = result["counts"][lang]
        assert counts["topics"] == TOPICS_PER_LANGUAGE + 1
        assert counts["topics_without_judgements"] == 1
        assert counts["judgements_without_topic"] == 1
        assert counts["queries"] == TOPICS_PER_LANGUAGE
        assert counts["relevant_missing_from_corpus"] == DROPPED_RELEVANT
        assert counts["queries_with_missing_relevant"] >= 1
        judged = {d for q in fixture.qrels_by_lang[lang].values() for d in q}
        assert counts["corpus_passages"] == len(fixture.corpus_docids[lang])
        assert counts["judged_missing_from_corpus"] == len(judged - fixture.corpus_docids[lang])
    assert result["settings"]["mono"]["skipped_queries"] == len(LANGUAGES)


def test_result_document_shape(loaded: Any, fixture: MiraclFixture) -> None:
    result = run_eval(loaded, fixture, languages=("yo",))
    assert result["task"] == "miracl" and result["xmir_result"] == 1
    assert result["dataset"]["languages"] == ["yo"]
    assert result["model"]["weights_sha256"] == loaded.weights_sha256
    assert result["prefixes"] == {"query": "query: ", "passage": "passage: "}
    for block in (result, result["bm25"]):
        entry = block["settings"]["mono"]["per_language"]["yo"]
        assert set(entry) == {"ndcg@10", "recall@100", "queries"}
        assert 0.0 <= entry["ndcg@10"] <= 1.0
    assert result["search"]["yo"]["method"] == "exact"
    assert result["embeddings"]["yo"]["dtype"] == "float16"
    assert len(result["dataset"]["corpus"]["yo"]["sha256"]) == 64
    json.dumps(result)  # serialisable as is


@pytest.mark.slow
def test_second_run_reuses_the_caches_and_another_model_does_not(
    loaded: Any, fixture: MiraclFixture, tmp_path: Path
) -> None:
    first = run_eval(loaded, fixture, languages=("sw",))
    second = run_eval(loaded, fixture, languages=("sw",))
    assert first["embeddings"]["sw"]["from_cache"] is False
    assert second["embeddings"]["sw"]["from_cache"] is True
    assert second["bm25"]["index_from_cache"]["sw"] is True
    assert second["settings"] == first["settings"]
    from xmir.models.tiny import build_tiny_encoder

    other = load_model(str(build_tiny_encoder(tmp_path / "other", seed=1)), device="cpu")
    third = run_eval(other, fixture, languages=("sw",))
    assert third["embeddings"]["sw"]["from_cache"] is False
    assert third["embeddings"]["sw"]["cache_key"] != first["embeddings"]["sw"]["cache_key"]
    assert third["bm25"] == {**second["bm25"]}  # the lexical reference does not depend on it


def test_faiss_flat_gives_the_exact_search_metrics(loaded: Any, fixture: MiraclFixture) -> None:
    exact = run_eval(loaded, fixture, languages=("zh",), bm25=False)
    flat = run_eval(loaded, fixture, languages=("zh",), bm25=False, search="flat")
    assert flat["search"]["zh"]["method"] == "flat"
    assert flat["settings"] == exact["settings"]


def test_a_seeded_topic_sample_scores_the_sampled_topics_as_the_full_run(
    loaded: Any, fixture: MiraclFixture
) -> None:
    full = run_eval(loaded, fixture, bm25=False)
    sampled = run_eval(loaded, fixture, bm25=False, max_topics=4, seed=3)
    again = run_eval(loaded, fixture, bm25=False, max_topics=4, seed=3)
    other_seed = run_eval(loaded, fixture, bm25=False, max_topics=4, seed=4)
    assert sampled["per_query"] == again["per_query"]
    assert other_seed["per_query"]["keys"] != sampled["per_query"]["keys"]
    keys = sampled["per_query"]["keys"]
    for lang in LANGUAGES:
        assert sum(key.endswith(f"|{lang}") for key in keys) == 4
        assert sampled["counts"][lang]["queries"] == 4
        assert sampled["counts"][lang]["topics_not_sampled"] == TOPICS_PER_LANGUAGE - 4
    for column in ("ndcg@10", "recall@100"):  # a sampled topic scores exactly as in the full run
        by_key = dict(zip(full["per_query"]["keys"], full["per_query"][column], strict=True))
        assert sampled["per_query"][column] == [by_key[key] for key in keys]
    record = sampled["dataset"]["topic_sample"]
    assert (record["max_topics"], record["seed"]) == (4, 3)
    assert record["per_language"]["sw"] == {
        "evaluable_topics": TOPICS_PER_LANGUAGE,
        "sampled_topics": 4,
    }
    assert "topic_sample" not in full["dataset"]


def test_dropping_embeddings_removes_the_cache_entry_and_keeps_the_scores(
    loaded: Any, fixture: MiraclFixture, tmp_path: Path
) -> None:
    store_root = tmp_path / "cache" / "corpus-embeddings"
    kept = run_eval(loaded, fixture, languages=("yo",), bm25=False)
    key = kept["embeddings"]["yo"]["cache_key"]
    assert (store_root / key).is_dir()
    dropped = run_eval(loaded, fixture, languages=("yo",), bm25=False, keep_embeddings=False)
    assert dropped["embeddings"]["yo"]["deleted_after_use"] is True
    assert not (store_root / key).exists()
    assert dropped["settings"] == kept["settings"]


def test_corpus_of_another_language_is_a_clear_error(loaded: Any, fixture: MiraclFixture) -> None:
    with pytest.raises(XmirError, match=r"holds none of the \d+ passages the yo qrels judge"):
        run_eval(
            loaded,
            fixture,
            languages=("yo",),
            corpus=fixture.corpus / "miracl-corpus-v1.0-sw" / "docs-0.jsonl.gz",
        )


def test_bad_input_for_a_later_language_fails_before_any_encoding(
    loaded: Any, fixture: MiraclFixture, tmp_path: Path
) -> None:
    with pytest.raises(XmirError, match=r"topics file .*topics\.fi\.tsv does not exist"):
        run_eval(loaded, fixture, languages=("sw", "fi"))
    assert not (tmp_path / "cache" / "corpus-embeddings").exists()


def test_relevant_ranks_place_unretrieved_and_missing_past_the_depth() -> None:
    retrieved = np.array([[5, 3, 9], [1, 2, -1]])
    ranks = relevant_ranks(retrieved, [[9, 5, 7], []], np.array([4, 1]))
    assert ranks.tolist() == [[1, 3, 4, 5], [4, 0, 0, 0]]


@pytest.mark.slow
def test_multi_process_pool_encodes_like_one_process(loaded: Any) -> None:
    from xmir.evaluate.passage_encoder import passage_encoder

    texts = [f"passage {i} {'x' * (i % 7)}" for i in range(40)]
    with passage_encoder(loaded.model, prefix="passage: ", devices=["cpu"]) as encode:
        single = encode(texts)
    with passage_encoder(loaded.model, prefix="passage: ", devices=["cpu", "cpu"]) as encode:
        pooled = [encode(texts[:25]), encode(texts[25:])]  # one pool serves every chunk
    np.testing.assert_allclose(np.concatenate(pooled), single, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(single, axis=1), 1.0, rtol=1e-5)


def test_cli_prints_a_row_per_language_and_writes_the_result(
    tiny_model_dir: Path, fixture: MiraclFixture, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from xmir.cli import app

    out = tmp_path / "miracl.json"
    args = ["eval", "--model", str(tiny_model_dir), "--dataset", "miracl", "--languages", "sw,yo"]
    args += ["--corpus", str(fixture.corpus), "--topics", fixture.topics, "--qrels", fixture.qrels]
    result = CliRunner().invoke(app, [*args, "--search", "flat", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert set(doc["settings"]["mono"]["per_language"]) == {"sw", "yo"}
    assert set(doc["bm25"]["settings"]["mono"]["per_language"]) == {"sw", "yo"}
    assert doc["search"]["yo"]["method"] == "flat"
    for text in ("BM25 nDCG@10", "sw", "yo", "mean", "2 topics without judgements"):
        assert text in " ".join(result.output.split()), result.output


def test_cli_samples_topics_and_refuses_max_topics_for_lareqa(
    tiny_model_dir: Path, fixture: MiraclFixture, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from xmir.cli import app

    out = tmp_path / "miracl.json"
    args = ["eval", "--model", str(tiny_model_dir), "--dataset", "miracl", "--languages", "sw"]
    args += ["--corpus", str(fixture.corpus), "--topics", fixture.topics, "--qrels", fixture.qrels]
    args += ["--max-topics", "2", "--seed", "5", "--no-bm25", "--drop-embeddings"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["mono"]["queries"] == 2
    assert doc["embeddings"]["sw"]["deleted_after_use"] is True
    assert "at most 2 topics per language (seed 5)" in " ".join(result.output.split())
    lareqa = ["eval", "--model", str(tiny_model_dir), "--dataset", "xquad-r", "--max-topics", "2"]
    refused = CliRunner().invoke(app, lareqa)
    assert refused.exit_code == 2
    assert "--max-topics: MIRACL options; xquad-r has no corpus to search" in refused.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "needs --corpus"),
        (["--corpus", "hub", "--languages", "xx"], "MIRACL: unknown language code"),
        (["--corpus", "hub", "--search", "annoy"], "'annoy' is not one of 'auto'"),
    ],
)
def test_cli_bad_miracl_options_are_one_line_errors(
    tiny_model_dir: Path, extra: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from xmir.cli import app

    args = ["eval", "--model", str(tiny_model_dir), "--dataset", "miracl", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
