"""The paper's Table-1 shape: per model size and strategy, mono / cross / multi mAP per dataset."""

from __future__ import annotations

from dataclasses import dataclass

from xmir.report.aggregate import (
    CORPUS_DATASETS,
    LOWER_IS_BETTER,
    Cell,
    Group,
    Summary,
    dataset_metrics,
)
from xmir.report.figures import DATASET_TITLES, display_label, format_params

TABLE_METRICS = ("mono", "cross", "multi", "rank_distance")
METRIC_HEADERS = {
    "mono": "mono",
    "cross": "cross",
    "multi": "multi",
    "rank_distance": "RD ↓",
    "ndcg@10": "nDCG@10",
    "recall@100": "R@100",
}


def table_metrics(dataset: str) -> tuple[str, ...]:
    """Table 1's columns for one dataset (MIRACL: nDCG@10 and Recall@100)."""
    return dataset_metrics(dataset) if dataset in CORPUS_DATASETS else TABLE_METRICS


@dataclass(frozen=True)
class TableRow:
    """One (model, strategy, batch) row: a cell per (dataset, metric) and which are best."""

    group: Group
    size: str
    params: str
    seeds: int
    cells: list[Cell | None]
    best: list[bool]


@dataclass(frozen=True)
class MainTable:
    columns: list[tuple[str, str]]  # (dataset, metric)
    rows: list[TableRow]

    def headers(self) -> list[str]:
        return [f"{DATASET_TITLES.get(d, d)} {METRIC_HEADERS[m]}" for d, m in self.columns]


def main_table(summary: Summary) -> MainTable:
    """Rows grouped by model size (smallest first); best per column marked within each size."""
    columns = [(d, m) for d in summary.datasets for m in table_metrics(d)]
    rows: list[TableRow] = []
    for model in summary.models:
        groups = summary.groups(model)
        cells = [[summary.cell(g, d, m) for d, m in columns] for g in groups]
        best_values = []
        for index, (_, metric) in enumerate(columns):
            means = [row[index].mean for row in cells if row[index] is not None]
            pick = min if metric in LOWER_IS_BETTER else max
            best_values.append(pick(means) if means else None)
        params = summary.params.get(model)
        size = f"{model} ({format_params(params)})" if params else model
        for group, row in zip(groups, cells, strict=True):
            best = [
                cell is not None and len(groups) > 1 and cell.mean == best_values[i]
                for i, cell in enumerate(row)
            ]
            rows.append(
                TableRow(
                    group,
                    size,
                    format_params(params) if params else "?",
                    len(summary.runs(group)),
                    row,
                    best,
                )
            )
    return MainTable(columns, rows)


def format_cell(cell: Cell | None, metric: str, *, compact: bool = False) -> str:
    """``0.612 ± 0.004`` (mAP) or ``286.6 ± 3.1`` (rank distance); ``–`` when missing."""
    if cell is None:
        return "–"
    digits = 1 if metric == "rank_distance" else 3
    text = f"{cell.mean:.{digits}f}"
    if cell.std is not None:
        text += f"{'±' if compact else ' ± '}{cell.std:.{digits}f}"
    return text


def row_label(row: TableRow, many_batches: bool) -> str:
    label = display_label(row.group.strategy_label)
    if many_batches and row.group.batch_size is not None:
        label += f" b{row.group.batch_size}"
    return label
