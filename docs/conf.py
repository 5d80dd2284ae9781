"""Sphinx configuration of the sklearn-snn documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html``. The build runs
offline: there is no intersphinx, the gallery examples run on the CPU, and
MathJax comes from the ``sphinx-mathjax-offline`` package, so that the pages'
formulas render without network access too.
"""

import importlib.util
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

import torch  # noqa: E402
from benchmark_results import write_benchmark_pages  # noqa: E402

import sklearn_snn  # noqa: E402

# The gallery runs in this process. One PyTorch thread keeps the small example
# networks fast and their timings steady on machines shared with other jobs.
torch.set_num_threads(1)

project = "sklearn-snn"
author = "The sklearn-snn developers"
copyright = "The sklearn-snn developers"
release = sklearn_snn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Markdown: the benchmarks page renders benchmarks/README.md and the
    # result summaries, tables as tables.
    "myst_parser",
]

templates_path = ["_templates"]
# The generated Markdown is included by the benchmarks page, not a page of its
# own, and the files copied for it are downloads and images.
exclude_patterns = [
    "_build",
    "generated/*.inc",
    "generated/*.md",
    "generated/benchmark_results",
    "**/GALLERY_HEADER.rst",
]
default_role = "literal"

# API reference: one page per public object, built from the docstrings.
autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# The example gallery: every script in examples/ runs at build time.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    # Each API page lists the examples that use its object.
    "doc_module": ("sklearn_snn",),
    "backreferences_dir": "auto_examples/backrefs",
    "inspect_global_variables": False,
}

# Markdown headings get GitHub's anchors, so that a README link such as
# [protocol](#protocol) finds its heading here too.
myst_heading_anchors = 6

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-snn {release}"
# MathJax from the docs' own _static folder rather than the CDN that
# sphinx.ext.mathjax loads it from by default, so that the formulas render
# without network access. The sphinx-mathjax-offline package ships MathJax 3
# (with its fonts) in its static/mathjax folder; it is copied into _static as
# any static file. (Not loaded as an extension: that one copies the files only
# once the build has finished, and declares no parallel safety, which fails a
# `-j` build with -W.)
_mathjax_spec = importlib.util.find_spec("sphinx-mathjax-offline")
if _mathjax_spec is None:
    raise ImportError("The docs need sphinx-mathjax-offline: pip install -e '.[docs]'")
MATHJAX_STATIC = Path(_mathjax_spec.origin).parent / "static"
html_static_path = [str(MATHJAX_STATIC)]
mathjax_path = "mathjax/tex-chtml.js"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
# The benchmarks page has no subpages, so its left sidebar would be empty: the
# page takes its width for the wide tables (those still wider scroll sideways
# in the theme's table container).
html_sidebars = {"benchmarks": []}

# The benchmark page renders benchmarks/README.md and whatever results are
# committed, as Markdown.
write_benchmark_pages(ROOT / "benchmarks", DOCS, DOCS / "generated")

# Fresh auto-generated pages on every build, so that renamed objects leave no
# stale page behind.
shutil.rmtree(DOCS / "generated" / "api", ignore_errors=True)
