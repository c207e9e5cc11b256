"""Analysis of finished sweeps: results, statistics, tables, figures and the written report."""
