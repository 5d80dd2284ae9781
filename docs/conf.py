"""Sphinx configuration of the sklearn-snn documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html``. The build runs
offline: there is no intersphinx, and the gallery examples run on the CPU.
"""

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

import torch  # noqa: E402
from benchmark_results import write_benchmark_results  # noqa: E402

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
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.inc", "**/GALLERY_HEADER.rst"]
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

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-snn {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False

# The benchmark page renders whatever results are committed.
write_benchmark_results(ROOT / "benchmarks" / "results", DOCS / "generated")

# Fresh auto-generated pages on every build, so that renamed objects leave no
# stale page behind.
shutil.rmtree(DOCS / "generated" / "api", ignore_errors=True)
