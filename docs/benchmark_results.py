"""Turn the committed files of ``benchmarks/results/`` into reStructuredText.

The benchmarks page includes ``generated/benchmark_results.inc``, which this
module writes at the start of every docs build. Every result kind that can be
shown without extra Sphinx extensions is rendered: CSV files as tables,
Markdown files as preformatted text (their tables read well as they are), PNG
and SVG files as figures. With no results the page says so.
"""

import shutil

KINDS = {".csv": "table", ".md": "text", ".png": "figure", ".svg": "figure"}


def _title(path):
    return path.stem.replace("_", " ").replace("-", " ").capitalize()


def _section(path, target):
    # A leading slash makes Sphinx read the path from the docs folder, whichever
    # file includes this text.
    source = f"/generated/benchmark_results/{target.name}"
    title = _title(path)
    lines = [title, "-" * len(title), ""]
    kind = KINDS[path.suffix]
    if kind == "table":
        lines += [
            ".. csv-table::",
            f"   :file: {source}",
            "   :header-rows: 1",
            "",
        ]
    elif kind == "text":
        lines += [f".. literalinclude:: {source}", "   :language: text", ""]
    else:
        lines += [f".. figure:: {source}", f"   :alt: {title}", ""]
    return lines


def write_benchmark_results(results_dir, out_dir):
    """Copy the results next to a generated include file that shows them.

    Parameters
    ----------
    results_dir : pathlib.Path
        The ``benchmarks/results`` folder; it may be missing or empty.
    out_dir : pathlib.Path
        Where ``benchmark_results.inc`` and the copied files go.

    Returns
    -------
    list of pathlib.Path
        The result files shown, in the order they appear.
    """
    target_dir = out_dir / "benchmark_results"
    shutil.rmtree(target_dir, ignore_errors=True)
    target_dir.mkdir(parents=True)
    results = []
    if results_dir.is_dir():
        results = sorted(
            p for p in results_dir.iterdir() if p.is_file() and p.suffix in KINDS
        )
    if not results:
        lines = [
            ".. note::",
            "",
            "   No benchmark results are committed yet. When ``benchmarks/results/``",
            "   holds result files (CSV or Markdown tables, PNG or SVG figures),",
            "   they appear on this page.",
            "",
        ]
    else:
        lines = []
        for path in results:
            target = target_dir / path.name
            shutil.copyfile(path, target)
            lines += _section(path, target)
    (out_dir / "benchmark_results.inc").write_text("\n".join(lines) + "\n")
    return results
