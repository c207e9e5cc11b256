"""Two processes (torch.distributed, gloo, CPU) through the real ``xmir train`` command.

Each rank records the texts its loss actually receives (decoded from the token ids); the
test maps them back to (item id, language) and checks the data-parallel guarantees: at every
step both ranks have the same batch type (and language for mono batches), disjoint slices, no
item id on both ranks, embeddings gathered across ranks, and exactly the slices of
``batches.jsonl``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from toy_parallel import TOY_ITEMS, toy_answer, toy_languages_of, toy_question

DRIVER = """
import json, os, sys
from pathlib import Path

import torch
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

log_dir, cli_args = Path(sys.argv[1]), sys.argv[2:]
original = MultipleNegativesRankingLoss.forward
seen = []


def recording_forward(self, sentence_features, labels):
    features = list(sentence_features)
    model = getattr(self.model, "module", self.model)
    decode = model.tokenizer.batch_decode
    seen.append({
        "anchors": decode(features[0]["input_ids"], skip_special_tokens=True),
        "positives": decode(features[1]["input_ids"], skip_special_tokens=True),
        "gather": self.gather_across_devices,
        "world_size": torch.distributed.get_world_size(),
    })
    return original(self, features, labels)


MultipleNegativesRankingLoss.forward = recording_forward
from xmir.cli import app

try:
    app(cli_args, standalone_mode=False)
finally:
    (log_dir / f"rank{os.environ['RANK']}.json").write_text(json.dumps(seen))
"""

STEPS, BATCH, WORLD = 4, 3, 2


def _text_index() -> dict[str, tuple[str, str]]:
    index = {}
    for item in range(TOY_ITEMS):
        for lang in toy_languages_of(item):
            index[f"query: {toy_question(item, lang)}"] = (f"q{item:02d}", lang)
            index[f"passage: {toy_answer(item, lang)}"] = (f"q{item:02d}", lang)
    return index


@pytest.mark.slow
def test_two_ranks_train_on_slices_of_one_global_batch(
    tiny_model_dir: Path, toy_data_dir: Path, tmp_path: Path
) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    out = tmp_path / "ddp-run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc-per-node", str(WORLD), str(driver), str(tmp_path),
        "train", "--model", str(tiny_model_dir), "--train-data", str(toy_data_dir),
        "--train-format", "lareqa", "--strategy", "hybrid", "--alpha", "0.5",
        "--batch-size", str(BATCH), "--steps", str(STEPS), "--save-every", "2",
        "--seed", "6", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    index = _text_index()
    plan = [json.loads(line) for line in (out / "batches.jsonl").read_text().splitlines()]
    assert [(r["step"], r["rank"]) for r in plan] == [
        (s, r) for s in range(1, STEPS + 1) for r in range(WORLD)
    ]
    assert {r["type"] for r in plan} == {"mono", "cross"}, "the seed must give both batch types"
    seen = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]
    assert [len(s) for s in seen] == [STEPS] * WORLD
    for step in range(STEPS):
        kinds, mono_langs, items_per_rank = set(), set(), []
        for rank in range(WORLD):
            batch = seen[rank][step]
            assert batch["gather"] and batch["world_size"] == WORLD
            queries = [index[text] for text in batch["anchors"]]
            passages = [index[text] for text in batch["positives"]]
            assert len(queries) == BATCH
            assert [q[0] for q in queries] == [p[0] for p in passages]
            pairs = list(zip(queries, passages, strict=True))
            if all(q[1] == p[1] for q, p in pairs):
                kinds.add("mono")
                mono_langs |= {q[1] for q, _ in pairs}
            else:
                assert all(q[1] != p[1] for q, p in pairs), "a batch mixes mono and cross pairs"
                kinds.add("cross")
            items = [q[0] for q in queries]
            assert len(set(items)) == BATCH
            items_per_rank.append(set(items))
            record = plan[step * WORLD + rank]
            assert record["item_ids"] == items
            assert record["query_langs"] == [q[1] for q in queries]
            assert record["passage_langs"] == [p[1] for p in passages]
        assert len(kinds) == 1, f"step {step + 1}: ranks used different batch types"
        assert kinds == {plan[step * WORLD]["type"]}
        if kinds == {"mono"}:
            assert len(mono_langs) == 1, f"step {step + 1}: mono ranks in different languages"
        assert not items_per_rank[0] & items_per_rank[1], f"step {step + 1}: an item on both ranks"

    metadata = json.loads((out / "xmir-train.json").read_text())
    assert metadata["status"] == "finished"
    assert metadata["plan"]["world_size"] == WORLD
    assert metadata["plan"]["global_batch_size"] == WORLD * BATCH
    assert metadata["loss"]["gather_across_devices"] is True
    checkpoint = out / "checkpoints" / f"checkpoint-{STEPS}"
    assert {"rng_state_0.pth", "rng_state_1.pth"} <= {p.name for p in checkpoint.iterdir()}
