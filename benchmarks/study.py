"""Judge a change of the defaults: study runs of ``pmlb.py`` against a baseline.

A change becomes a default only if, over seeds 0 to 2, it raises the mean
score in at least three of the four groups (classification or regression,
large or small datasets) and loses no more than 0.002 in the fourth. This
script prints, per candidate and group, the datasets that both runs finished
with every seed, the mean score of each, the difference, the candidate's
per-dataset wins, ties (within 0.001) and losses, and the median fit times.

Example::

    python benchmarks/study.py --index ../shared/datasets/pmlb/index.csv \\
        --baseline results/study/cpu-r10-clf-base.csv \\
        --candidate beta_2=0.95 results/study/cpu-r10-clf-beta2.csv
"""

import argparse
from pathlib import Path

import pandas as pd

TIE = 0.001


def per_dataset(path, model):
    """Mean score and fit time per dataset, of runs that have every seed."""
    runs = pd.read_csv(path)
    runs = runs[(runs["model"] == model) & runs["score"].notna()]
    grouped = runs.groupby(["dataset", "task"])
    means = grouped[["score", "fit_time"]].mean()
    means["seeds"] = grouped["seed"].nunique()
    return means.reset_index()


def compare(baseline, candidate, sizes, n_seeds):
    both = baseline.merge(candidate, on=["dataset", "task"], suffixes=("_b", "_c"))
    both = both[(both["seeds_b"] == n_seeds) & (both["seeds_c"] == n_seeds)]
    both["size"] = both["dataset"].map(sizes)
    rows = []
    for (task, size), group in both.groupby(["task", "size"]):
        diff = group["score_c"] - group["score_b"]
        rows.append(
            {
                "group": f"{task}, {size}",
                "datasets": len(group),
                "baseline": group["score_b"].mean(),
                "candidate": group["score_c"].mean(),
                "difference": diff.mean(),
                "W/T/L": f"{(diff > TIE).sum()}/{(diff.abs() <= TIE).sum()}/"
                f"{(diff < -TIE).sum()}",
                "median fit (s), baseline": group["fit_time_b"].median(),
                "median fit (s), candidate": group["fit_time_c"].median(),
            }
        )
    return pd.DataFrame(rows)


def markdown(table):
    """The table as Markdown, scores to 4 decimals and times to 1."""

    def cell(column, value):
        if isinstance(value, float):
            return f"{value:.1f}" if column.startswith("median") else f"{value:.4f}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + " --- |" * table.shape[1]]
    for row in table.itertuples(index=False):
        cells = (cell(c, v) for c, v in zip(table.columns, row, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="PMLB index.csv")
    parser.add_argument("--baseline", type=Path, nargs="+", required=True)
    parser.add_argument(
        "--candidate",
        nargs="+",
        action="append",
        required=True,
        metavar=("NAME", "CSV"),
        help="a name and the CSV files of its runs; repeat for more candidates",
    )
    parser.add_argument("--model", default="snn")
    parser.add_argument("--seeds", type=int, default=3, help="seeds a dataset needs")
    args = parser.parse_args(argv)
    sizes = pd.read_csv(args.index).set_index("name")["size"]
    baseline = pd.concat([per_dataset(p, args.model) for p in args.baseline])
    for name, *paths in args.candidate:
        candidate = pd.concat([per_dataset(p, args.model) for p in paths])
        table = compare(baseline, candidate, sizes, args.seeds)
        print(f"\n{name}\n")
        print(markdown(table))


if __name__ == "__main__":
    main()
