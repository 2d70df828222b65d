import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.base import clone

from cenas_sklearn.features import EPDJMStore, EPDJMTransformer, ZeroJacobianWarning, _store
from cenas_sklearn.spaces import NATSSizeSpace, NB201Space

from ._data import REPO_ROOT
from ._processes import sigkill_when

ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
MIXED = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|"
TINY = {"n_inits": 2, "n_probe": 8, "probe_size": 8, "n_components": 4, "random_state": 0}
ARCHS = [0, 9930, 3731, 15624, 100]  # 3 chunks of 2, 2 and 1 with chunk_size=2


@pytest.fixture(scope="module")
def small_nb201():
    return NB201Space(C=4, N=1)


@pytest.fixture(scope="module")
def epdjm(small_nb201):
    return EPDJMTransformer(space=small_nb201, **TINY)


@pytest.fixture(scope="module")
def expected(epdjm):
    """The uninterrupted in-memory result for ARCHS."""
    return EPDJMTransformer(**epdjm.get_params()).fit().compute(ARCHS)


@pytest.fixture
def computed(tmp_path, epdjm):
    return EPDJMStore.create(tmp_path / "store", epdjm, ARCHS, chunk_size=2).compute()


def _count_computed(monkeypatch):
    """Record the architectures passed to each EPDJMTransformer.compute call."""
    calls = []
    original = EPDJMTransformer.compute

    def compute(self, X):
        X = list(X)
        calls.append(X)
        return original(self, X)

    monkeypatch.setattr(EPDJMTransformer, "compute", compute)
    return calls


def _arch_keys(space, archs):
    return [space.to_string(a) for a in archs]


# ---------------------------------------------------------------- create and compute
def test_store_equals_transform(tmp_path, epdjm, small_nb201, expected, monkeypatch):
    calls = _count_computed(monkeypatch)
    store = EPDJMStore.create(tmp_path / "store", epdjm, ARCHS, chunk_size=2)
    assert (len(store), store.n_chunks, store.n_done, store.is_complete) == (5, 3, 0, False)
    assert repr(store).endswith("0/5 architectures done)")
    assert store.compute() is store
    assert store.is_complete and store.n_done == 5 and repr(store).endswith("5/5 architectures done)")
    keys = _arch_keys(small_nb201, ARCHS)
    assert calls == [keys[:2], keys[2:4], keys[4:]]
    assert np.array_equal(store.features(), expected.epdjm.reshape(5, -1))
    assert np.array_equal(store.epdjm(), expected.epdjm)
    assert isinstance(store.features(), np.memmap)
    assert not isinstance(store.features(mmap_mode=None), np.memmap)
    assert store.archs == [f"tss:{k}" for k in keys]
    assert (store.path / "archs.txt").read_text().splitlines() == store.archs
    # Reopening reads the same arrays.
    reopened = EPDJMStore(store.path)
    assert reopened.is_complete and reopened.manifest == store.manifest
    assert np.array_equal(reopened.features(), expected.epdjm.reshape(5, -1))


def test_parameter_counts_and_singular_values(computed, small_nb201, expected):
    n_params = computed.n_parameters()
    assert n_params.dtype == np.int64 and n_params.shape == (5,)
    assert n_params.tolist() == [small_nb201.n_parameters(a) for a in ARCHS]
    sv = computed.singular_values()
    assert sv.dtype == np.float32 and sv.shape == (5, 2, 8)
    assert np.array_equal(sv, expected.singular_values)
    assert (np.diff(sv, axis=-1) <= 0).all() and (sv[..., -1] >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(computed.epdjm(), axis=-2), sv[..., :4], rtol=1e-5)
    assert computed.manifest["shapes"] == {"epdjm": [5, 2, 8, 4], "singular_values": [5, 2, 8],
                                           "n_parameters": [5]}


def test_transformer_reproduces_the_store(computed, epdjm):
    est = computed.transformer()
    assert isinstance(est, EPDJMTransformer)
    assert est.space == epdjm.space and est.get_params()["n_inits"] == 2
    assert est.feature_shape_ == (2, 8, 4) and est.seed_ == computed.manifest["seed"]
    new = [7, 12000]
    fresh = EPDJMTransformer(**epdjm.get_params()).fit()
    assert est.seed_ == fresh.seed_
    assert np.array_equal(est.transform(new), fresh.transform(new))
    assert np.array_equal(est.transform(ARCHS[:2]), computed.features()[:2])


def test_fitted_transformer_keeps_its_seed(tmp_path, small_nb201):
    est = EPDJMTransformer(space=small_nb201, **{**TINY, "random_state": None}).fit()
    store = EPDJMStore.create(tmp_path, est, [5, 6]).compute()
    assert store.manifest["seed"] == est.seed_
    assert np.array_equal(store.features(), est.transform([5, 6]))


def test_mixed_spaces_and_array_probes(tmp_path):
    probes = np.random.RandomState(0).standard_normal((8, 3, 8, 8))
    est = EPDJMTransformer(n_inits=2, n_components=4, probe_images=probes, random_state=0)
    archs = [MIXED, "8:16:24:32:40"]
    store = EPDJMStore.create(tmp_path, est, archs, chunk_size=1).compute()
    assert store.archs == [f"tss:{MIXED}", "sss:8:16:24:32:40"]
    assert store.manifest["settings"]["probe_images"] == "array"
    np.testing.assert_array_equal(np.load(tmp_path / "probes.npy"), probes.astype(np.float32))
    assert np.array_equal(store.features(), est.fit().transform(archs))
    np.testing.assert_array_equal(store.transformer().probe_images_, probes.astype(np.float32))


def test_named_and_object_spaces(tmp_path):
    store = EPDJMStore.create(tmp_path / "a", EPDJMTransformer(space="sss", **TINY), [284])
    assert store.manifest["settings"]["space"] == "sss"
    est = store.compute().transformer()
    assert est.space == "sss"
    store = EPDJMStore.create(tmp_path / "b", EPDJMTransformer(space=NATSSizeSpace(), **TINY),
                              ["8:8:40:32:40"]).compute()
    assert store.manifest["settings"]["space"] == {"type": "NATSSizeSpace", "params": {}}
    assert store.transformer().space == NATSSizeSpace()
    assert np.array_equal(store.features(), est.transform([284]))


def test_zero_jacobian_in_a_store(tmp_path, epdjm):
    with pytest.warns(ZeroJacobianWarning, match="none~0"):
        store = EPDJMStore.create(tmp_path, epdjm, [ALL_NONE, 0]).compute()
    assert not store.features()[0].any() and store.features()[1].any()
    with pytest.warns(ZeroJacobianWarning, match="1 of 2 architectures"):
        store.verify()


# ---------------------------------------------------------------- resume and overwrite
def test_create_again_resumes_or_refuses(computed, epdjm, monkeypatch):
    calls = _count_computed(monkeypatch)
    again = EPDJMStore.create(computed.path, epdjm, ARCHS, chunk_size=2)
    assert again.is_complete and again.manifest == computed.manifest
    again.compute()
    assert calls == []
    for params, archs in [({"n_components": 3}, ARCHS), ({"random_state": 1}, ARCHS),
                          ({"normalize": True}, ARCHS), ({"probe_images": "gaussian"}, ARCHS),
                          ({}, ARCHS[:4]), ({}, ARCHS[::-1])]:
        with pytest.raises(ValueError, match="other settings or architectures; pass overwrite=True"):
            EPDJMStore.create(computed.path, clone(epdjm).set_params(**params), archs)
    assert EPDJMStore(computed.path).is_complete
    # Device, n_jobs and verbose do not change the numbers: still the same store.
    same = clone(epdjm).set_params(n_jobs=2, verbose=1, device="cpu")
    assert EPDJMStore.create(computed.path, same, ARCHS).is_complete
    replaced = EPDJMStore.create(computed.path, clone(epdjm).set_params(n_components=3),
                                 ARCHS[:3], overwrite=True)
    assert not replaced.is_complete and len(replaced) == 3
    assert replaced.compute().features().shape == (3, 2 * 8 * 3)


def test_other_probe_array_is_not_resumed(tmp_path, small_nb201):
    rng = np.random.RandomState(0)
    first = EPDJMTransformer(space=small_nb201, n_inits=2, n_components=4, random_state=0,
                             probe_images=rng.standard_normal((8, 3, 8, 8)))
    second = EPDJMTransformer(**{**first.get_params(),
                                 "probe_images": rng.standard_normal((8, 3, 8, 8))})
    EPDJMStore.create(tmp_path, first, [0, 1]).compute()
    with pytest.raises(ValueError, match="other settings"):
        EPDJMStore.create(tmp_path, second, [0, 1])
    assert EPDJMStore.create(tmp_path, first, [0, 1]).is_complete
    store = EPDJMStore.create(tmp_path, second, [0, 1], overwrite=True).compute()
    assert np.array_equal(store.features(), second.fit().transform([0, 1]))


def test_incomplete_store(tmp_path, epdjm):
    store = EPDJMStore.create(tmp_path, epdjm, ARCHS, chunk_size=2)
    for read in (store.features, store.epdjm, store.singular_values, store.n_parameters):
        with pytest.raises(ValueError, match=r"incomplete \(0/5 architectures\); call compute\(\)"):
            read()
    assert store.features(allow_incomplete=True).shape == (5, 64)
    assert not store.features(allow_incomplete=True).any()
    store.verify()  # nothing finished, nothing to check


def test_crash_mid_run_then_resume(tmp_path, epdjm, small_nb201, expected, monkeypatch):
    original = EPDJMTransformer.compute
    calls = []

    def crash_on_second_chunk(self, X):
        calls.append(list(X))
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return original(self, X)

    monkeypatch.setattr(EPDJMTransformer, "compute", crash_on_second_chunk)
    store = EPDJMStore.create(tmp_path, epdjm, ARCHS, chunk_size=2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.compute()
    monkeypatch.undo()
    reopened = EPDJMStore(tmp_path)
    assert list(reopened.manifest["done"]) == ["0"] and reopened.n_done == 2
    assert not reopened.is_complete
    calls = _count_computed(monkeypatch)
    resumed = EPDJMStore.create(tmp_path, epdjm, ARCHS, chunk_size=2).compute()
    keys = _arch_keys(small_nb201, ARCHS)
    assert calls == [keys[2:4], keys[4:]]
    assert np.array_equal(resumed.epdjm(), expected.epdjm)
    assert np.array_equal(resumed.singular_values(), expected.singular_values)
    assert np.array_equal(resumed.n_parameters(), expected.n_parameters)
    resumed.verify()


_KILLED_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    from cenas_sklearn.features import EPDJMStore, _store

    write = _store._atomic_write_json
    written = []

    def hang_on_second_chunk(path, obj):
        # Chunk 1's rows are already flushed to the arrays; its manifest entry never lands.
        if written:
            Path(sys.argv[2]).touch()
            time.sleep(600)
        written.append(path)
        write(path, obj)

    _store._atomic_write_json = hang_on_second_chunk
    EPDJMStore(sys.argv[1]).compute()
""")


@pytest.mark.timeout(180)
def test_killed_process_then_resume(tmp_path, epdjm, small_nb201, expected, monkeypatch):
    folder, marker = tmp_path / "store", tmp_path / "hanging"
    store = EPDJMStore.create(folder, epdjm, ARCHS, chunk_size=2)
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(folder), str(marker)],
                             cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sigkill_when(child, marker.exists, timeout=150, waiting_for="its second chunk")
    reopened = EPDJMStore(folder)
    assert list(reopened.manifest["done"]) == ["0"]
    # The killed chunk's rows are on disk, but unlisted: they will be recomputed.
    assert reopened.epdjm(allow_incomplete=True)[2:4].any()
    assert not reopened.epdjm(allow_incomplete=True)[4:].any()
    calls = _count_computed(monkeypatch)
    resumed = EPDJMStore.create(folder, epdjm, ARCHS, chunk_size=2).compute()
    keys = _arch_keys(small_nb201, ARCHS)
    assert calls == [keys[2:4], keys[4:]]
    assert np.array_equal(resumed.epdjm(), expected.epdjm)
    assert np.array_equal(resumed.singular_values(), expected.singular_values)
    assert resumed.manifest["done"].keys() == {"0", "1", "2"}
    assert store.manifest["done"] == {}  # an older handle keeps its own view
    resumed.verify()


# ---------------------------------------------------------------- corruption
def _data_offset(path):
    with open(path, "rb") as fh:
        np.lib.format.read_magic(fh)
        np.lib.format.read_array_header_1_0(fh)
        return fh.tell()


def test_verify_detects_a_corrupted_chunk(computed):
    computed.verify()
    file = computed.path / "epdjm.npy"
    per_arch = 2 * 8 * 4 * 4  # bytes
    offset = _data_offset(file) + 2 * per_arch + 17  # inside architecture 2, chunk 1
    raw = bytearray(file.read_bytes())
    raw[offset] ^= 0xFF
    file.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"chunk 1 \(architectures 2\.\.3\) does not match its checksum"):
        EPDJMStore(computed.path).verify()


@pytest.mark.parametrize("keep", [0.5, 0.02], ids=["data", "header"])
def test_truncated_array_is_a_clear_error(computed, keep):
    file = computed.path / "epdjm.npy"
    raw = file.read_bytes()
    file.write_bytes(raw[: int(len(raw) * keep)])
    store = EPDJMStore(computed.path)
    for read in (store.features, store.verify):
        with pytest.raises(ValueError, match=r"corrupted array .*epdjm\.npy"):
            read()
    # The untouched arrays still read.
    assert store.n_parameters().shape == (5,)
    # Resuming onto a truncated array fails as clearly, before computing anything.
    store.manifest["done"].pop("2")
    with pytest.raises(ValueError, match=r"corrupted array .*epdjm\.npy"):
        store.compute()


def test_array_with_another_shape_is_rejected(computed):
    np.save(computed.path / "singular_values.npy", np.zeros((5, 2, 7), dtype=np.float32))
    with pytest.raises(ValueError, match=r"has shape \(5, 2, 7\), the manifest says \(5, 2, 8\)"):
        computed.singular_values()
    with pytest.raises(ValueError, match=r"has shape \(5, 2, 7\)"):
        computed.compute()  # never writes into a file of the wrong shape


def test_missing_array(computed):
    (computed.path / "n_parameters.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks n_parameters\.npy"):
        computed.n_parameters()


@pytest.mark.parametrize("text, match", [
    ("{not json", "corrupted EPDJM store manifest"),
    ("", "corrupted EPDJM store manifest"),
    ('{"format": "something-else"}', "is not an EPDJM store manifest"),
])
def test_garbage_manifest(computed, text, match):
    (computed.path / "manifest.json").write_text(text)
    with pytest.raises(ValueError, match=match):
        EPDJMStore(computed.path)


def test_other_format_version_and_archs_mismatch(computed):
    manifest = json.loads((computed.path / "manifest.json").read_text())
    (computed.path / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ValueError, match=r"format version 99, .* reads version 1; recompute it"):
        EPDJMStore(computed.path)
    (computed.path / "manifest.json").write_text(json.dumps(manifest))
    EPDJMStore(computed.path)
    with open(computed.path / "archs.txt", "a") as fh:
        fh.write("tss:extra\n")
    with pytest.raises(ValueError, match=r"archs\.txt does not match the manifest"):
        EPDJMStore(computed.path)


def test_no_store_here(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no EPDJM store .*\(missing manifest\.json\)"):
        EPDJMStore(tmp_path)


def test_manifest_is_replaced_atomically(computed):
    # No temporary file is left behind; the manifest parses and lists every chunk.
    assert sorted(p.name for p in computed.path.iterdir()) == [
        "archs.txt", "epdjm.npy", "manifest.json", "n_parameters.npy", "probes.npy",
        "singular_values.npy"]
    manifest = json.loads((computed.path / "manifest.json").read_text())
    assert manifest["format"] == "cenas-epdjm-store" and manifest["n_archs"] == 5
    assert manifest["done"] == {
        str(c): _store._digest(computed.epdjm()[2 * c:2 * c + 2]) for c in range(3)}


# ---------------------------------------------------------------- bad input
def test_bad_arguments(tmp_path, epdjm):
    with pytest.raises(TypeError, match="module factories have no stable name"):
        EPDJMStore.create(tmp_path, epdjm, [0, lambda: torch.nn.Linear(1, 1)])
    with pytest.raises(TypeError, match="must be an EPDJMTransformer"):
        EPDJMStore.create(tmp_path, object(), [0])
    for chunk_size in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
            EPDJMStore.create(tmp_path, epdjm, [0], chunk_size=chunk_size)
    with pytest.raises(ValueError, match="contains no architecture"):
        EPDJMStore.create(tmp_path, epdjm, [])
    with pytest.raises(IndexError, match="out of range"):
        EPDJMStore.create(tmp_path, epdjm, [15625])
    with pytest.raises(ValueError, match="is an index; pass space="):
        EPDJMStore.create(tmp_path, EPDJMTransformer(**TINY), [0])

    class WideNB201(NB201Space):
        pass

    with pytest.raises(TypeError, match="cannot record the custom space"):
        EPDJMStore.create(tmp_path, EPDJMTransformer(space=WideNB201(C=4, N=1), **TINY), [0])
    assert not (tmp_path / "manifest.json").exists()
