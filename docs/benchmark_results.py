"""Turn the committed files of ``benchmarks/results/`` into reStructuredText.

The benchmarks page includes ``generated/benchmark_results.inc``, which this
module writes at the start of every docs build. Every result kind is shown
without extra Sphinx extensions: Markdown summaries as preformatted text
(their tables read well as they are), PNG and SVG files as figures, and the
per-run CSV and JSON files as downloads. With no results the page says so.
"""

import shutil

KINDS = {
    ".md": "text",
    ".png": "figure",
    ".svg": "figure",
    ".csv": "download",
    ".json": "download",
}


def _title(stem):
    return stem.replace("_", " ").replace("-", " ").capitalize()


def _section(stem, paths):
    """Return the lines of one result's section: its text, figures, data."""
    title = _title(stem)
    lines = [title, "-" * len(title), ""]
    for path in sorted(paths, key=lambda p: list(KINDS).index(p.suffix)):
        # A leading slash makes Sphinx read the path from the docs folder,
        # whichever file includes this text.
        source = f"/generated/benchmark_results/{path.name}"
        kind = KINDS[path.suffix]
        if kind == "download":
            lines += [f"Every run, as data: :download:`{path.name} <{source}>`.", ""]
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
            "   holds result files (Markdown summaries, PNG or SVG figures, CSV",
            "   or JSON data),",
            "   they appear on this page.",
            "",
        ]
    else:
        lines = []
        by_stem = {}
        for path in results:
            shutil.copyfile(path, target_dir / path.name)
            by_stem.setdefault(path.stem, []).append(path)
        for stem, paths in by_stem.items():
            lines += _section(stem, paths)
    (out_dir / "benchmark_results.inc").write_text("\n".join(lines) + "\n")
    return results
