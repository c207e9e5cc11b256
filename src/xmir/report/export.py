"""The report's machine-readable and browser forms: ``results.csv`` and ``report.html``."""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path

from markdown_it import MarkdownIt

from xmir.io import atomic_write_text
from xmir.report.aggregate import METRICS
from xmir.report.results import SweepResults


def write_csv(results: SweepResults, path: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "run_id",
            "model",
            "total_params",
            "non_embedding_params",
            "strategy",
            "alpha",
            "batch_size",
            "seed",
            "steps",
            "sweep",
            "dataset",
            *METRICS,
        ]
    )
    for run in results.runs:
        for dataset, document in run.evals.items():
            writer.writerow(
                [
                    run.run_id,
                    run.model,
                    run.total_params,
                    run.non_embedding_params,
                    run.strategy,
                    "" if run.alpha is None else run.alpha,
                    "" if run.batch_size is None else run.batch_size,
                    "" if run.seed is None else run.seed,
                    run.steps,
                    run.sweep,
                    dataset,
                    *(f"{read(document):.6f}" for read in METRICS.values()),
                ]
            )
    atomic_write_text(path, buffer.getvalue())
    return path


def write_html(markdown: str, out_dir: Path, title: str) -> Path:
    """The Markdown rendered by markdown-it (tables on), figures embedded as data URIs."""
    body = MarkdownIt("commonmark").enable("table").render(markdown)

    def embed(match: re.Match[str]) -> str:
        source = out_dir / match.group(1)
        if not source.is_file():
            return match.group(0)
        data = base64.b64encode(source.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', embed, body)
    page = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>\n{body}</body></html>\n"
    )
    path = out_dir / "report.html"
    atomic_write_text(path, page)
    return path


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
    "line-height:1.45}table{border-collapse:collapse;font-size:0.85em;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:3px 7px}th{background:#f3f3f3}img{max-width:100%}"
    "blockquote{border-left:4px solid #e0a000;margin:1em 0;padding:0.2em 1em;background:#fffbea}"
)
