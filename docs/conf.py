"""Sphinx configuration of the cenas_sklearn documentation.

Build it with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (what
``tests/test_docs.py`` runs). The build works offline and without running the
gallery examples; two environment variables opt in to more:

- ``CENAS_DOCS_RUN_EXAMPLES=1`` executes ``examples/plot_*.py`` and embeds their
  figures (the tests already run every example, so the default build skips them);
- ``CENAS_DOCS_INTERSPHINX=1`` links to the Python, NumPy, scikit-learn and PyTorch
  documentation (it downloads their inventories, so it needs the network).
"""

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the checkout itself, also when it is not installed.
sys.path.insert(0, str(ROOT))

import cenas_sklearn


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


RUN_EXAMPLES = _flag("CENAS_DOCS_RUN_EXAMPLES")
INTERSPHINX = _flag("CENAS_DOCS_INTERSPHINX")

# -- Project -------------------------------------------------------------------------------
project = "cenas_sklearn"
author = "cenas_sklearn developers"
copyright = "cenas_sklearn developers, BSD-3-Clause"
release = cenas_sklearn.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb", "**.py", "**.zip",
                    "**.md5", "**.pickle"]
root_doc = "index"
nitpicky = False
# ``code`` is the default role, so that ``X`` in reST reads as in the docstrings.
default_role = "code"

# -- autodoc / autosummary / numpydoc ------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc sections already give the types
autodoc_member_order = "bysource"
# numpydoc would add an autosummary table of every class member, with stub pages that
# nothing generates; the class template (_templates/autosummary/class.rst) lists members.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _defining_module(obj):
    """The module that defines a class member (a function, property or descriptor)."""
    for candidate in (obj, getattr(obj, "fget", None), getattr(obj, "__func__", None)):
        module = getattr(candidate, "__module__", None)
        if isinstance(module, str):
            return module
    owner = getattr(obj, "__objclass__", None)  # slot wrappers and method descriptors
    return getattr(owner, "__module__", None)


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document the members our classes define or inherit from our own base classes.

    The class pages use ``:inherited-members:`` so that, for example, NB201Space shows
    the ``sample`` and ``canonical`` methods of SearchSpace. Members inherited from
    scikit-learn (``get_params``, ``set_output``, ...), ``collections.abc`` or builtins
    are left out: they are documented by their libraries, and their docstrings refer to
    labels of other projects' documentation that do not resolve here.
    """
    if what not in {"class", "exception"} or skip:
        return None
    module = _defining_module(obj)
    if module is not None and not module.startswith("cenas_sklearn"):
        return True
    return None


def _attribute_comment(name, obj):
    """The ``#:`` comment documenting the constant ``name``, from the module defining it.

    The public constants (``cenas_sklearn.spaces.NATS_SIZE_CELL``...) are defined with
    a ``#:`` comment in a private module and re-exported by the package; autodoc looks
    for the comment in the package ``__init__`` only, finds none, and falls back to the
    docstring of the value's type (``str(object='') -> str``). Look in the package's
    private modules for the comment instead.
    """
    from sphinx.pycode import ModuleAnalyzer

    package, _, attr = name.rpartition(".")
    for modname, module in sorted(sys.modules.items()):
        if not modname.startswith(f"{package}._") or getattr(module, attr, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # no source available: keep looking
            continue
        if ("", attr) in docs:
            return [line for line in docs["", attr] if line is not None]
    return None


def _document_reexported_constants(app, what, name, obj, options, lines):
    """Replace the type docstring of a re-exported constant by its ``#:`` comment."""
    if what != "data" or not name.startswith("cenas_sklearn."):
        return
    first = next((line.strip() for line in lines if line.strip()), "")
    type_doc = (type(obj).__doc__ or "").strip().splitlines()
    if first and type_doc and first != type_doc[0].strip():
        return  # the constant has its own documentation
    comment = _attribute_comment(name, obj)
    lines[:] = [*comment, ""] if comment else []


# -- ``cenas --help`` texts, included by cli.rst --------------------------------------------
# Generated from the parser itself at every build, so that the page cannot drift from
# the code. argparse wraps at $COLUMNS; fix it for stable output.


def _write_cli_help(folder: Path) -> None:
    from cenas_sklearn.cli import build_parser

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"
    try:
        parser = build_parser()
        helps = {"cenas": parser.format_help()}
        subparsers = next(a for a in parser._actions if a.dest == "command")
        for name, sub in subparsers.choices.items():
            helps[f"cenas-{name}"] = sub.format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in helps.items():
        (folder / f"{name}.txt").write_text(text)


# docs/generated/ holds only generated files (gitignored): the autosummary stubs and these
# help texts. Start afresh at every build, so that the stub of a name removed from an
# ``__all__`` cannot linger as an orphan page (a warning, hence an error with -W).
shutil.rmtree(DOCS / "generated", ignore_errors=True)
_write_cli_help(DOCS / "generated" / "cli")

# -- intersphinx: opt-in, since it downloads inventories ----------------------------------
# An offline build with mappings set would warn once per unreachable inventory (and
# -W makes that an error), so the mappings exist only when asked for.
intersphinx_mapping = {}
if INTERSPHINX:
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "torch": ("https://docs.pytorch.org/docs/stable/", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable/", None),
    }
intersphinx_timeout = 10

# -- sphinx-gallery ------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "plot_",
    # Execute the examples only when asked: the tests run each of them already.
    "plot_gallery": "True" if RUN_EXAMPLES else "False",
    "run_stale_examples": RUN_EXAMPLES,
    "write_computation_times": RUN_EXAMPLES,
    "abort_on_example_error": True,
    "download_all_examples": False,
    "backreferences_dir": "gen_modules/backreferences",
    # The class and function pages list the examples that use them (the templates'
    # minigallery); the top-level names are aliases, found under both names.
    "doc_module": ("cenas_sklearn",),
    "reference_url": {"cenas_sklearn": None},
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "Contrastive embeddings of neural architectures, as scikit-learn estimators",
    "fixed_sidebar": True,
    "show_relbars": True,
}
html_title = f"cenas_sklearn {release}"
html_static_path = []
html_show_sourcelink = False


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-docstring", _document_reexported_constants)
