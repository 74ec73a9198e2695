"""Sphinx configuration of the gaussrelbo documentation.

Build with ``python docs/build.py`` (renders the gallery first, then runs ``sphinx-build -W``).
Math is typeset by MathJax 3 served from the site itself (the ``sphinx-mathjax-offline`` package
copies its files into ``_static``): nothing is fetched when a page is viewed.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if os.environ.get("GAUSSRELBO_DOCS_SOURCE"):      # document a checkout instead of the install
    sys.path.insert(0, str(ROOT))

import gaussrelbo  # noqa: E402

project = "gaussrelbo"
author = "the gaussrelbo developers"
copyright = "gaussrelbo developers; BSD-3-Clause"
version = release = gaussrelbo.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",   # MathJax 3 copied into _static (no CDN)
    "numpydoc",
    "myst_parser",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "derivations/*.md", "gallery/*", "README.md", "build.py"]
templates_path = []

# MyST: $...$ and $$...$$ math, amsmath environments, ::: fences for admonitions.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# numpydoc renders the reST docstrings (:math:, .. math::, :func:) as they are.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()
autodoc_default_options = {"undoc-members": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
add_module_names = False
default_role = "code"        # `x` in a docstring is code, not a failed cross-reference

# Cross-references in docstrings (`:func:`, `:class:`) that point outside the documented API are
# rendered as code without a link, not as a warning (the build is strict: -W).
nitpicky = False
suppress_warnings = ["ref.python"]

html_theme = "alabaster"
html_title = "gaussrelbo"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {"description": "Exact theory of Rényi-entropy VAE bounds (RELBO) on "
                                     "linear-Gaussian models",
                      "page_width": "1100px", "sidebar_width": "230px"}


# ---- docstring hygiene at build time ---------------------------------------------------------
# Plain-text |J| (a set's size) in a docstring would be read by docutils as a substitution
# reference; escape it outside backticks and outside ``.. math::`` blocks.
import re  # noqa: E402

_BARS = re.compile(r"(?<![\\|])\|([A-Za-z][A-Za-z0-9_]*)\|(?!_)")


def _escape_bars(app, what, name, obj, options, lines):
    in_math, indent = False, 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if in_math and stripped and len(line) - len(stripped) <= indent:
            in_math = False
        if stripped.startswith(".. math::"):
            in_math, indent = True, len(line) - len(stripped)
            continue
        if in_math:
            continue
        parts = line.split("`")
        parts[::2] = [_BARS.sub(r"\\|\1\\|", p) for p in parts[::2]]
        lines[i] = "`".join(parts)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)
