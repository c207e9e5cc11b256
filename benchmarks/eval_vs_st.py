"""xmir eval vs sentence-transformers' InformationRetrievalEvaluator, side by side in one run.

Both evaluate the multilingual (pooled) setting of XQuAD-R with the same model and prefixes;
the ST evaluator computes MAP@k with k = pool size (= AP over the full ranking). ``--runner
both`` prints the mAP agreement and xmir's own split of encoding vs scoring time;
``--runner xmir`` / ``--runner st`` run one side per process, for whole-process timing with
an external timer (A B A B).

The ST evaluator keeps every (query, candidate) hit as a Python object when k is the pool
size, so the full XQuAD-R pool (13,090 x 13,014) does not fit in 24 GB: use --max-questions.

    XMIR_DATA_DIR=... python benchmarks/eval_vs_st.py --model e5-small-q4:layers=2 --max-questions 300
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def run_xmir(model_spec: str, dataset: str, max_questions: int | None) -> tuple[float, dict]:
    from xmir.data.lareqa import load_lareqa
    from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa
    from xmir.models.registry import load_model

    start = time.perf_counter()
    rset = load_lareqa(dataset, max_questions=max_questions)
    loaded = load_model(model_spec)
    options = EvalOptions(use_cache=False, show_progress=False)
    result = evaluate_lareqa(loaded, rset, options).to_dict()
    return time.perf_counter() - start, result


def run_st(model_spec: str, dataset: str, max_questions: int | None) -> tuple[float, float]:
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    from xmir.data.lareqa import load_lareqa
    from xmir.models.registry import load_model

    start = time.perf_counter()
    rset = load_lareqa(dataset, max_questions=max_questions)
    loaded = load_model(model_spec)
    queries = {f"q{i}": text for i, text in enumerate(rset.query_texts)}
    corpus = {f"c{i}": text for i, text in enumerate(rset.candidate_texts)}
    relevant = {f"q{i}": {f"c{c}" for c in rel} for i, rel in enumerate(rset.relevant)}
    evaluator = InformationRetrievalEvaluator(
        queries,
        corpus,
        relevant,
        map_at_k=[rset.num_candidates],
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1],
        precision_recall_at_k=[1, 10],
        query_prompt=loaded.query_prefix or None,
        corpus_prompt=loaded.passage_prefix or None,
        write_csv=False,
        name="multi",
    )
    scores = evaluator(loaded.model)
    key = next(k for k in scores if k.endswith(f"map@{rset.num_candidates}"))
    return time.perf_counter() - start, float(scores[key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="e5-small-q4:layers=2")
    parser.add_argument("--dataset", default="xquad-r")
    parser.add_argument("--max-questions", type=int, default=None)
    parser.add_argument("--runner", choices=["both", "xmir", "st"], default="both")
    args = parser.parse_args()
    if args.runner == "st":
        print(json.dumps({"multi_map_st": run_st(args.model, args.dataset, args.max_questions)[1]}))
        return
    xmir_s, result = run_xmir(args.model, args.dataset, args.max_questions)
    print(
        json.dumps(
            {"xmir_time_s": result["time_s"], "multi_map": result["settings"]["multi"]["map"]}
        ),
        flush=True,
    )
    if args.runner == "xmir":
        return
    st_s, st_map = run_st(args.model, args.dataset, args.max_questions)
    # ST macro-averages over all queries; xmir macro-averages over query languages. With
    # equal query counts per language (XQuAD-R) the two are the same number.
    multi_ap = np.array([v for v in result["per_query"]["multi_ap"] if v is not None])
    report = {
        "model": args.model,
        "dataset": args.dataset,
        "queries": result["dataset"]["queries"],
        "candidates": result["dataset"]["candidates"],
        "xmir_wall_s": round(xmir_s, 2),
        "st_wall_s": round(st_s, 2),
        "wall_ratio_xmir_over_st": round(xmir_s / st_s, 3),
        "xmir_encode_s": result["time_s"]["encode"],
        "xmir_score_and_metrics_s": result["time_s"]["score_and_metrics"],
        "score_share_of_encode": round(
            result["time_s"]["score_and_metrics"] / result["time_s"]["encode"], 4
        ),
        "multi_map_xmir_macro_lang": result["settings"]["multi"]["map"],
        "multi_map_xmir_micro": float(multi_ap.mean()),
        "multi_map_st": st_map,
        "abs_diff_micro": abs(float(multi_ap.mean()) - st_map),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
