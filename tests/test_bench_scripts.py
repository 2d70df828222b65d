"""The arithmetic of benchmark scripts whose figures the docs quote."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_script("bench_epdjm_reliability")


def test_icc_separates_architecture_from_initialisation(bench):
    rng = np.random.RandomState(0)
    arch = rng.standard_normal((4000, 1, 3))
    noise = rng.standard_normal((4000, 3, 3))
    icc = bench.intraclass_correlation(np.concatenate(
        [np.repeat(arch[..., :1], 3, axis=1),          # the architecture alone
         noise[..., 1:2],                              # the initialisation alone
         arch[..., 2:] + noise[..., 2:]], axis=2))     # equal parts of both
    np.testing.assert_allclose(icc, [1.0, 0.0, 0.5], atol=0.03)
    assert bench.intraclass_correlation(np.ones((5, 2, 1)))[0] == 0.0  # no variance at all


def test_families_ignore_the_singular_basis_signs(bench):
    rng = np.random.RandomState(1)
    epdjm = rng.standard_normal((3, 2, 6, 4))
    signs = np.where(rng.rand(3, 2, 1, 4) < 0.5, -1.0, 1.0)
    a, b = bench.families(epdjm), bench.families(epdjm * signs)
    assert tuple(a) == bench.FAMILIES
    assert a["gram"].shape == (3, 2, 15) and a["shape"].shape == (3, 2, 3)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-12)


def test_families_values(bench):
    # two probes with orthogonal Jacobian rows of norms 3 and 4, one with rows of norm 2
    epdjm = np.zeros((1, 1, 3, 2))
    epdjm[0, 0, 0] = [3.0, 0.0]
    epdjm[0, 0, 1] = [0.0, 4.0]
    epdjm[0, 0, 2] = [0.0, 2.0]
    f = bench.families(epdjm)
    np.testing.assert_allclose(f["gram"][0, 0], [0.0, 0.0, 1.0], atol=1e-12)  # (0,1),(0,2),(1,2)
    log_norms = np.log([3.0, 4.0, 2.0])
    np.testing.assert_allclose(f["scale"][0, 0], [log_norms.mean()])
    np.testing.assert_allclose(f["row-norms"][0, 0], log_norms - log_norms.mean())
    spectrum = np.log([3.0, np.sqrt(20.0)])  # column norms: the singular values
    np.testing.assert_allclose(f["spectrum"][0, 0], spectrum)
    np.testing.assert_allclose(f["shape"][0, 0], spectrum[1:] - spectrum[0])


def test_script_reports_each_family_for_each_setting(bench, tmp_path):
    out = tmp_path / "r.json"
    bench.main(["--setting", "8,1,8,8,4", "--n-archs", "12", "--n-inits", "2",
                "--json", str(out)])
    (row,) = json.loads(out.read_text())
    assert row["setting"] == "8,1,8,8,4" and 0 < row["n_archs"] <= 12
    for name in bench.FAMILIES:
        assert -1.0 <= row[name]["icc_median"] <= row[name]["icc_p90"] <= 1.0
        if name != "scale":
            assert 0.0 <= row[name]["identification"] <= 1.0
    assert row["scale"]["identification"] is None  # a 1-d cosine is only a sign
    # even for these tiny networks the overall Jacobian scale depends more on the
    # architecture than on the seed (0.64 here; 0.98 at the CPU-scale setting)
    assert row["scale"]["icc_median"] > 0.5


def test_extra_training_rows_never_compute_a_held_out_function():
    training_rows = load_script("bench_embedder_quality").training_rows
    classes = np.array(["a", "b", "c", "d", "a", "c", "e", "d"])
    rows = training_rows(np.array([0, 1]), np.array([2, 3]), classes, 4, 8)
    assert rows.dtype == np.intp
    np.testing.assert_array_equal(rows, [0, 1, 4, 6])  # 5 and 7 are twins of 2 and 3
    # no extra row qualifies: still an integer index array
    rows = training_rows(np.array([0, 1]), np.array([2, 3]), classes[[0, 1, 2, 3, 2, 3]], 4, 6)
    assert rows.dtype == np.intp
    np.testing.assert_array_equal(rows, [0, 1])
