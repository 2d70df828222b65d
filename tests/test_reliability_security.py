"""Reliability, bullet 6: security hygiene.

- The project's own files are plain formats read without unpickling: a scan of the package's
  source finds every ``np.load`` / ``np.save`` with ``allow_pickle=False`` and no unpickling
  call (``pickle``, ``torch.load``, ``joblib.load``...) except the allow-listed one, the
  NATS-Bench API, whose archives are pickles by upstream design.
- A pickle planted where the project expects an array (an EPDJM store, a benchmark table) is
  refused with a ValueError naming the file, and its payload never runs.
- NATS-Bench archives are opened only from the folder the user gives (or $TORCH_HOME when
  none is given: ``tests/test_benchmarks.py::test_nats_default_path_is_torch_home``), and
  only on the first query.
- Reports (search checkpoints and curves, store manifests) are strict JSON: no NaN or
  Infinity tokens, which other JSON readers refuse.
"""

from __future__ import annotations

import ast
import bz2
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import cenas_sklearn
from cenas_sklearn.benchmarks import NATSBenchmark, TabularBenchmark
from cenas_sklearn.features import EPDJMStore, EPDJMTransformer
from cenas_sklearn.search import RandomArchitectureSearch, simulate
from cenas_sklearn.spaces import NB201Space

PACKAGE = Path(cenas_sklearn.__file__).parent

#: Calls that unpickle (or may): none is allowed in the package but these, with the reason.
ALLOWED_UNPICKLING = {
    ("benchmarks/_nats.py", "nats_bench.create"): (
        "NATS-Bench archives are bz2 pickles by upstream design; NATSBenchmark opens only "
        "the folder the user gave, or the one under $TORCH_HOME, and says so in its docs"),
}
_UNPICKLING_CALLS = {
    "pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle.load", "_pickle.loads",
    "cloudpickle.load", "cloudpickle.loads", "dill.load", "dill.loads", "marshal.load",
    "marshal.loads", "shelve.open", "torch.load", "joblib.load", "pandas.read_pickle",
    "yaml.load", "yaml.unsafe_load", "numpy.lib.format.read_array", "nats_bench.create",
}
_ALIASES = {"np": "numpy", "pd": "pandas"}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(_ALIASES.get(node.id, node.id))
    return ".".join(reversed(parts))


def _scan():
    """``{(file, call): [line, ...]}`` of the array reads/writes and unpickling calls."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in (
                    "pickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve"):
                found.setdefault((where, f"from {node.module} import"), []).append(node.lineno)
            if not isinstance(node, ast.Call):
                continue
            name = _dotted(node.func)
            if name in ("numpy.load", "numpy.save"):
                keywords = {k.arg: k.value for k in node.keywords}
                value = keywords.get("allow_pickle")
                ok = isinstance(value, ast.Constant) and value.value is False
                found.setdefault((where, name if ok else f"{name} without allow_pickle=False"),
                                 []).append(node.lineno)
            elif name in _UNPICKLING_CALLS or name in ("eval", "exec"):
                found.setdefault((where, name), []).append(node.lineno)
    return found


def test_project_files_are_read_without_pickle():
    found = _scan()
    bad = {key: lines for key, lines in found.items()
           if key[1] not in ("numpy.load", "numpy.save") and key not in ALLOWED_UNPICKLING}
    assert not bad, ("unpickling (or np.load/np.save without allow_pickle=False) in the "
                     f"package, at {bad}: read the project's files as .npy with "
                     "allow_pickle=False or as JSON, or allow-list the call with a reason")
    # The scan sees the calls it vouches for (it would pass vacuously otherwise).
    assert ("features/_store.py", "numpy.load") in found
    assert ("benchmarks/_tabular.py", "numpy.load") in found
    assert ("benchmarks/_nats.py", "nats_bench.create") in found


def test_the_scan_catches_what_it_forbids(tmp_path, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np, torch, pickle\n"
                   "a = np.load('x.npy')\n"
                   "b = np.load('x.npy', allow_pickle=True)\n"
                   "c = torch.load('m.pt')\n"
                   "d = pickle.loads(b'')\n"
                   "from pickle import loads\n")
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path)
    assert set(_scan()) == {
        ("bad.py", "numpy.load without allow_pickle=False"), ("bad.py", "torch.load"),
        ("bad.py", "pickle.loads"), ("bad.py", "from pickle import")}


class _Payload:
    """Unpickling it creates a file: proof that a pickle ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _plant_pickle(path, marker, shape):
    payload = np.empty(shape, dtype=object)
    payload.flat[0] = _Payload(marker)
    np.save(path, payload, allow_pickle=True)


def test_a_pickle_planted_in_a_store_is_refused(tmp_path):
    epdjm = EPDJMTransformer(space=NB201Space(C=4, N=1), n_inits=2, n_probe=8, probe_size=8,
                             n_components=4, random_state=0)
    store = EPDJMStore.create(tmp_path / "store", epdjm, [0, 9930], chunk_size=1).compute()
    marker = tmp_path / "pwned"
    _plant_pickle(store.path / "epdjm.npy", marker, (2, 2, 8, 4))
    _plant_pickle(store.path / "probes.npy", marker, (8, 3, 8, 8))
    for read in (store.features, store.verify, EPDJMStore(store.path).transformer):
        with pytest.raises(ValueError, match=r"corrupted array .*\.npy"):
            read()
    with pytest.raises(ValueError, match="other settings"):  # the planted probes differ
        EPDJMStore.create(store.path, epdjm, [0, 9930], chunk_size=1)
    assert not marker.exists()


def test_a_pickle_planted_in_a_benchmark_table_is_refused(tmp_path):
    space = NB201Space()
    (tmp_path / "configs.txt").write_text("".join(f"{arch}\n" for arch in space))
    np.save(tmp_path / "cifar10_test_accs.npy", np.full(len(space), 50.0))
    marker = tmp_path / "pwned"
    _plant_pickle(tmp_path / "cifar100_test_accs.npy", marker, (len(space),))
    with pytest.raises(ValueError, match=r"cifar100_test_accs\.npy cannot be read without "
                                         "unpickling"):
        TabularBenchmark.from_folder(tmp_path, "nb201")
    assert not marker.exists()


def test_nats_archives_are_opened_only_from_the_given_folder_and_lazily(tmp_path):
    given, elsewhere = tmp_path / "given", tmp_path / "elsewhere"
    marker = tmp_path / "pwned"
    archive = elsewhere / "NATS-tss-v1_0-3ffb9-simple"
    archive.mkdir(parents=True)
    (archive / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(_Payload(marker))))
    given.mkdir()
    with pytest.raises(FileNotFoundError, match=re.escape(str(given))):
        NATSBenchmark(given)  # the archive elsewhere is not looked for
    bench = NATSBenchmark(elsewhere)
    assert bench.archive_dir == archive
    assert not marker.exists()  # found, not opened: only the first query opens it


def _strict_json(path):
    def refuse(token):
        raise ValueError(f"{path} holds {token}, which is not JSON")
    return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=refuse)


@pytest.mark.filterwarnings("ignore:.*evaluations failed:UserWarning")
def test_reports_are_strict_json(tmp_path):
    values = np.linspace(10.0, 90.0, 15625)
    values[::2] = np.nan  # failures: NaN in memory, null on disk
    RandomArchitectureSearch(n_iter=6, checkpoint=tmp_path / "search.json",
                             random_state=0).fit(np.arange(15625), values)
    checkpoint = _strict_json(tmp_path / "search.json")
    assert None in checkpoint["history"]["value"]
    bench = TabularBenchmark("nb201", {"toy": values}, name="toy")
    simulate(RandomArchitectureSearch(), bench, n_queries=4, seeds=2,
             path=tmp_path / "curves.json")
    _strict_json(tmp_path / "curves.json")
    epdjm = EPDJMTransformer(space=NB201Space(C=4, N=1), n_inits=2, n_probe=8, probe_size=8,
                             n_components=4, random_state=0)
    store = EPDJMStore.create(tmp_path / "store", epdjm, [0], chunk_size=1).compute()
    _strict_json(store.path / "manifest.json")
