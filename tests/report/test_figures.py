"""Every figure names each plotted series in a legend, and no legend is cut off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from synthetic_sweep import MODELS, spec_payload, write_sweep

from xmir.report import figures, study_figures
from xmir.report.build import build_report
from xmir.sweep.spec import parse_spec


def _checked_save(seen: dict[str, set[str]]) -> Any:
    original = figures._save

    def save(fig: Any, path: Path) -> Path:
        fig.canvas.draw()
        named: set[str] = set()
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        box = fig.bbox
        for legend in legends:
            named |= {text.get_text() for text in legend.get_texts()}
            extent = legend.get_window_extent()
            assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, path.name  # not clipped
            assert extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1, path.name
        plotted = {
            artist.get_label()
            for ax in fig.axes
            for artist in (*ax.lines, *ax.containers, *ax.collections, *ax.patches)
            if artist.get_label() and not str(artist.get_label()).startswith("_")
        }
        assert plotted <= named, (path.name, sorted(plotted - named))
        seen[path.name] = plotted
        return original(fig, path)

    return save


def test_every_plotted_series_is_in_a_legend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A study whose alpha sweep runs hybrid0.25 at the larger sizes only: the frontier's
    first panel lacks it, and the legend must still name it."""
    main = parse_spec(spec_payload(name="main"))
    alpha = parse_spec(
        spec_payload(
            name="alpha",
            models=MODELS[1:],
            strategies=["hybrid"],
            hybrid_alphas=[0.25, 0.75],
            include_untrained=False,
        )
    )
    write_sweep(tmp_path / "study" / "main", main)
    write_sweep(tmp_path / "study" / "alpha", alpha)
    seen: dict[str, set[str]] = {}
    monkeypatch.setattr(figures, "_save", _checked_save(seen))
    monkeypatch.setattr(study_figures, "_save", figures._save)
    report = build_report(tmp_path / "study", tmp_path / "report", html=False)
    assert {f.name for f in report.figures} == set(seen)
    assert {"hybrid0.25", "hybrid0.75"} <= seen["alpha_frontier.png"]
    assert "rank_distance_vs_params.png" in seen
