"""Typed result records: every committed record loads and dumps back to the same bytes; the
schema version is read (a file without one is version 1) and a newer one is refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from xmir.errors import XmirError
from xmir.evaluate.result import EvalResult, QueryKey, query_keys
from xmir.paths import RUN_RESULT_FILE, TRAIN_RECORD_FILE
from xmir.records import VersionedRecord
from xmir.sweep.run_record import RunRecord
from xmir.train.record import TrainRecord

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
STUDIES = ("offline-study-v2", "offline-study-v3")


def _text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


def _committed(pattern: str) -> list[Path]:
    return sorted(p for study in STUDIES for p in (RESULTS / study).rglob(pattern))


def _round_trip(model: type[VersionedRecord], path: Path) -> None:
    text = _text(path)
    record = model.from_dict(json.loads(text), str(path))
    assert record.schema_version == 1
    assert json.dumps(record.to_dict(), indent=2, ensure_ascii=False) + "\n" == text, path


@pytest.mark.parametrize("study", STUDIES)
def test_every_committed_record_loads_and_dumps_back_byte_for_byte(study: str) -> None:
    found = {
        EvalResult: sorted((RESULTS / study).rglob("eval-*.json.gz")),
        TrainRecord: sorted((RESULTS / study).rglob(TRAIN_RECORD_FILE + ".gz")),
        RunRecord: sorted((RESULTS / study).rglob(RUN_RESULT_FILE)),
    }
    assert all(found.values()), {model.__name__: len(paths) for model, paths in found.items()}
    for model, paths in found.items():
        for path in paths:
            _round_trip(model, path)


def test_committed_records_are_typed() -> None:
    result = EvalResult.from_disk(_committed("eval-xquad-r.json.gz")[0].with_suffix(""))
    assert result.task == "lareqa" and result.dataset.name == "xquad-r"
    assert 0.0 <= result.metric("multi") <= 1.0
    assert result.variant("centered").bias_metric("rank_distance") >= 0.0
    keys = result.per_query.query_keys() if result.per_query else []
    assert keys and {k.language for k in keys} == set(result.dataset.languages)
    kept = _committed(TRAIN_RECORD_FILE + ".gz")[0]
    run = RunRecord.from_disk(kept.parents[1] / RUN_RESULT_FILE)
    assert run.train is not None and run.train.batch_mix is not None
    assert (run.train.batch_mix.pairs or 0) > 0
    trained = TrainRecord.from_disk(kept.with_suffix(""))
    assert trained.is_finished and trained.plan and trained.plan.realised_mix
    assert trained.plan.realised_mix.steps == trained.plan.total_steps


def test_a_file_without_a_version_is_version_1_and_keeps_its_keys() -> None:
    payload = {"task": "lareqa", "settings": {"mono": {"map": 0.5, "queries": 2}}}
    result = EvalResult.from_dict(payload)
    assert result.schema_version == 1 and result.metric("mono") == 0.5
    assert result.to_dict() == payload


def test_a_newer_or_broken_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match="schema version 2"):
        EvalResult.from_dict({"xmir_result": 2})
    with pytest.raises(XmirError, match="not a schema version"):
        TrainRecord.from_dict({"xmir_train": "one"})
    with pytest.raises(XmirError, match="not an xmir training record"):
        TrainRecord.from_dict({"xmir_train": 1, "status": "paused"})
    with pytest.raises(XmirError, match="no readable JSON"):
        RunRecord.from_disk(tmp_path / RUN_RESULT_FILE)
    assert RunRecord.read(tmp_path / RUN_RESULT_FILE) is None


def test_to_disk_writes_what_from_disk_reads(tmp_path: Path) -> None:
    record = TrainRecord.from_dict({"xmir_train": 1, "status": "running", "zeta": [1, None]})
    record.to_disk(tmp_path / TRAIN_RECORD_FILE)
    text = (tmp_path / TRAIN_RECORD_FILE).read_text(encoding="utf-8")
    assert (
        text
        == '{\n  "xmir_train": 1,\n  "status": "running",\n  "zeta": [\n    1,\n    null\n  ]\n}\n'
    )
    assert TrainRecord.from_disk(tmp_path / TRAIN_RECORD_FILE).to_dict() == record.to_dict()


def test_the_per_query_key_is_made_and_parsed_in_one_place() -> None:
    keys = query_keys(["q1", "a|b"], ["de", "zh"])
    assert keys == ["q1|de", "a|b|zh"]
    assert [QueryKey.parse(k) for k in keys] == [QueryKey("q1", "de"), QueryKey("a|b", "zh")]
    with pytest.raises(XmirError, match="per-query key"):
        EvalResult.from_dict({"per_query": {"keys": ["q1"]}})
    with pytest.raises(XmirError, match="column mono_ap has 1 rows for 2 keys"):
        EvalResult.from_dict({"per_query": {"keys": keys, "mono_ap": [0.5]}})
    with pytest.raises(XmirError, match="task 'msmarco'"):
        EvalResult.from_dict({"task": "msmarco"})
