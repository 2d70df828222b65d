import dataclasses
import hashlib
import pickle
import re
import shutil
import urllib.error
import urllib.request

import numpy as np
import pytest

from cenas_sklearn.benchmarks import (
    NATSBenchmark,
    TabularBenchmark,
    _fetch,
    fetch_nats_size,
    fetch_nb201,
    get_data_home,
)
from cenas_sklearn.benchmarks._tabular import LIGHTON_LAYOUTS
from cenas_sklearn.spaces import NATSSizeSpace, NB201Space, get_space

NB201_FILES = tuple(_fetch._REMOTE["nb201"].sha256)
NATS_SIZE_FILES = tuple(_fetch._REMOTE["nats_size"].sha256)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def nb201_bench(shared_data):
    return fetch_nb201(data_home=shared_data, download_if_missing=False)


@pytest.fixture(scope="module")
def sss_bench(shared_data):
    return fetch_nats_size(data_home=shared_data, download_if_missing=False)


@pytest.fixture(scope="module")
def nats_sample(shared_data):
    path = shared_data / "nats-bench-sample"
    if not path.is_dir():
        pytest.skip(f"NATS-Bench sample archives not found at {path}")
    return path


@pytest.fixture(scope="module")
def tss_nats(nats_sample):
    return NATSBenchmark(nats_sample, "tss")


@pytest.fixture
def toy():
    """A synthetic NB201 table: two datasets, most architectures not evaluated."""
    space = get_space("nb201")
    c10 = np.full(len(space), np.nan)
    c10[[0, 5, 11]] = [85.0, 91.5, 91.5]
    c100 = np.linspace(0.0, 70.0, len(space))
    return TabularBenchmark(space, {"cifar10": c10, "cifar100": c100}, name="toy")


def _copy_files(src, dst, names):
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(src / name, dst / name)
    return dst


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- TabularBenchmark
def test_tabular_accuracy_single_and_vectorised(toy):
    space = toy.space
    assert toy.datasets == ("cifar10", "cifar100")
    value = toy.accuracy(5)
    assert type(value) is float and value == 91.5
    assert toy.accuracy(space[5]) == 91.5
    out = toy.accuracy([space[11], 0, np.int64(5)])
    assert out.dtype == np.float64 and out.shape == (3,)
    np.testing.assert_array_equal(out, [91.5, 85.0, 91.5])
    np.testing.assert_array_equal(toy.accuracy(iter([0]), dataset="cifar10"), [85.0])
    assert toy.accuracy([]).shape == (0,)
    # The default dataset is the first one.
    assert toy.accuracy(len(space) - 1, dataset="cifar100") == pytest.approx(70.0)


def test_tabular_unknown_dataset_lists_the_known_ones(toy):
    with pytest.raises(KeyError, match=r"unknown dataset 'imagenet'.*'cifar10', 'cifar100'"):
        toy.accuracy(0, dataset="imagenet")
    with pytest.raises(KeyError, match="unknown dataset"):
        toy.table("CIFAR10")
    with pytest.raises(KeyError, match="unknown dataset"):
        toy.optimum(["cifar10"])


def test_tabular_architecture_not_in_table_is_a_key_error(toy):
    space = toy.space
    with pytest.raises(KeyError, match=re.escape(f"{space[1]!r} (index 1) has no cifar10")):
        toy.accuracy(1)
    with pytest.raises(KeyError, match=r"index 1\) .* \(and 1 more\)"):
        toy.accuracy([0, 1, 2])
    with pytest.raises(KeyError, match=r"'\|bogus~0\|' is not in the toy table"):
        toy.accuracy("|bogus~0|")
    with pytest.raises(KeyError, match="out of range"):
        toy.accuracy([0, 15625])
    with pytest.raises(TypeError, match="must be an integer"):
        toy.accuracy(1.5)


def test_tabular_optimum_skips_nan_and_breaks_ties_by_index(toy):
    assert toy.optimum() == (5, 91.5)
    index, acc = toy.optimum("cifar100")
    assert (index, acc) == (15624, 70.0)
    assert type(index) is int and type(acc) is float
    empty = TabularBenchmark("sss", {"c": np.full(32768, np.nan)}, name="empty")
    with pytest.raises(ValueError, match="no accuracy for dataset 'c'"):
        empty.optimum()


def test_tabular_tables_are_read_only_copies():
    values = np.linspace(0, 100, 32768)
    bench = TabularBenchmark(NATSSizeSpace(), {"cifar10": values})
    values[0] = 50.0  # the caller's array is copied
    table = bench.table()
    assert table[0] == 0.0 and table.shape == (32768,) and table.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        table[0] = 1.0
    # Even a caller who makes the view writable cannot change the table.
    with pytest.raises(ValueError):
        table.flags.writeable = True


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        (np.zeros(10), ValueError, r"shape \(10,\), expected \(15625,\)"),
        (np.full(15625, np.inf), ValueError, "infinite value"),
        (np.full(15625, 150.0), ValueError, r"not percentages in \[0, 100\]"),
    ],
)
def test_tabular_rejects_bad_accuracies(values, error, match):
    with pytest.raises(error, match=match):
        TabularBenchmark("nb201", {"cifar10": values})


def test_tabular_rejects_bad_containers():
    with pytest.raises(TypeError, match="non-empty dict"):
        TabularBenchmark("nb201", {})
    with pytest.raises(TypeError, match="dataset names must be strings"):
        TabularBenchmark("sss", {10: np.zeros(32768)})


def test_tabular_pickle_round_trip(toy):
    clone = pickle.loads(pickle.dumps(toy))
    assert clone.datasets == toy.datasets and clone.name == "toy"
    np.testing.assert_array_equal(clone.table("cifar100"), toy.table("cifar100"))
    assert clone.optimum() == (5, 91.5)
    assert not clone.table().flags.writeable
    with pytest.raises(AttributeError):
        clone.space = get_space("sss")  # the tables are aligned with the space
    assert "toy" in repr(clone)


# ---------------------------------------------------------------- the published tables
def test_nb201_table_facts(nb201_bench):
    assert nb201_bench.datasets == ("cifar10", "cifar100")
    assert nb201_bench.metric == "test"
    assert nb201_bench.optimum("cifar10") == (3731, 94.41)
    assert nb201_bench.accuracy(NB201Space()[3731]) == 94.41
    table = nb201_bench.table("cifar100")
    assert table.shape == (15625,) and np.isfinite(table).all()
    # A single training run per architecture: index 0 is seed 777 of NATS-Bench (85.62),
    # not the mean over its 3 seeds (85.8633...).
    assert nb201_bench.accuracy(0) == 85.62


def test_nats_size_table_facts(sss_bench):
    assert sss_bench.datasets == ("cifar10-valid", "cifar100")
    assert sss_bench.metric == "valid"
    assert sss_bench.table().shape == (32768,)
    assert sss_bench.accuracy("8:8:40:32:40") == pytest.approx(86.796)
    with pytest.raises(KeyError, match=r"'cifar10-valid', 'cifar100'"):
        sss_bench.accuracy(0, dataset="cifar10")


def test_nats_size_table_is_nats_bench_validation_accuracy(sss_bench, nats_sample):
    # The LightOn size-space files hold NATS-Bench's 90-epoch validation accuracies.
    for dataset in sss_bench.datasets:
        nats = NATSBenchmark(nats_sample, "sss", dataset=dataset, metric="valid", hp="90")
        np.testing.assert_allclose(sss_bench.accuracy([0, 11, 284], dataset=dataset),
                                   nats.accuracy([0, 11, 284]), rtol=1e-12)


def test_checksums_cover_the_files_and_match_the_shared_sums(shared_data):
    for remote, layout in ((_fetch._REMOTE["nb201"], LIGHTON_LAYOUTS["tss"]),
                           (_fetch._REMOTE["nats_size"], LIGHTON_LAYOUTS["sss"])):
        assert set(remote.sha256) == {layout["archs"], *layout["accuracies"].values()}
        for name, digest in remote.sha256.items():
            assert _sha256(shared_data / remote.folder / name) == digest


# ---------------------------------------------------------------- from_folder checks
def test_from_folder_rejects_a_misaligned_configs_file(shared_data, tmp_path):
    folder = _copy_files(shared_data / "nb201-lighton", tmp_path, NB201_FILES)
    lines = (folder / "configs.txt").read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    (folder / "configs.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"configs.txt: line 2 reads .* architecture 1 of"):
        TabularBenchmark.from_folder(folder, "nb201")
    (folder / "configs.txt").write_text("\n".join(lines[:-1]))
    with pytest.raises(ValueError, match="lists 15624 architectures, expected 15625"):
        TabularBenchmark.from_folder(folder, "nb201")


def test_from_folder_rejects_a_misaligned_arch_strings_array(shared_data, tmp_path):
    folder = _copy_files(shared_data / "natsss-lighton", tmp_path, NATS_SIZE_FILES)
    archs = np.load(folder / "arch_strings.npy", allow_pickle=False)
    np.save(folder / "arch_strings.npy", archs[::-1])
    with pytest.raises(ValueError, match=r"entry 0 reads '64:64:64:64:64'"):
        TabularBenchmark.from_folder(folder, "sss")
    # An object array would need unpickling, which is refused.
    np.save(folder / "arch_strings.npy", archs.astype(object), allow_pickle=True)
    with pytest.raises(ValueError, match="cannot be read without unpickling"):
        TabularBenchmark.from_folder(folder, "sss")


def test_from_folder_checks_the_accuracy_files(shared_data, tmp_path):
    folder = _copy_files(shared_data / "nb201-lighton", tmp_path, NB201_FILES)
    path = folder / "cifar100_test_accs.npy"
    accs = np.load(path)
    np.save(path, accs[:-1])
    with pytest.raises(ValueError, match=r"cifar100_test_accs.npy has shape \(15624,\)"):
        TabularBenchmark.from_folder(folder, "nb201")
    accs[7] = np.inf
    np.save(path, accs)
    with pytest.raises(ValueError, match=r"accuracies of .*cifar100_test_accs\.npy hold an infinite"):
        TabularBenchmark.from_folder(folder, "nb201")
    accs[7] = np.nan  # NaN: not evaluated
    np.save(path, accs)
    bench = TabularBenchmark.from_folder(folder, "nb201")
    assert bench.name == folder.name
    with pytest.raises(KeyError, match=r"\(index 7\) has no cifar100 accuracy"):
        bench.accuracy(range(10), dataset="cifar100")
    assert bench.accuracy(8, dataset="cifar100") == accs[8]
    path.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        TabularBenchmark.from_folder(folder, "nb201")


# ---------------------------------------------------------------- data home and fetching
def test_get_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CENAS_DATA", raising=False)
    assert get_data_home() == str(tmp_path / "cenas_sklearn_data")
    monkeypatch.setenv("CENAS_DATA", "~/nas")
    assert get_data_home() == str(tmp_path / "nas")
    assert get_data_home(tmp_path / "explicit") == str(tmp_path / "explicit")
    assert not (tmp_path / "cenas_sklearn_data").exists()  # nothing is created


def test_fetch_reads_the_folder_named_by_cenas_data(monkeypatch, shared_data, nb201_bench):
    monkeypatch.setenv("CENAS_DATA", str(shared_data))
    bench = fetch_nb201(download_if_missing=False)
    np.testing.assert_array_equal(bench.table(), nb201_bench.table())


def test_fetch_without_download_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_nats_size(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / "natsss-lighton" / "cifar10_accs.npy") in message
    assert "CENAS_DATA" in message
    assert _fetch._REMOTE["nats_size"].url("cifar10_accs.npy") in message
    assert "8606a4a4d7ea9ed9c01964660e8b2afb1e003480/SearchSpaces/BenchNatsss" in message


def test_fetch_rejects_a_corrupted_local_file(shared_data, tmp_path):
    folder = _copy_files(shared_data / "nb201-lighton", tmp_path / "nb201-lighton", NB201_FILES)
    path = folder / "cifar10_test_accs.npy"
    path.write_bytes(path.read_bytes()[:-8])  # truncated
    expected = _fetch._REMOTE["nb201"].sha256["cifar10_test_accs.npy"]
    pattern = f"{re.escape(str(path))} has SHA-256 {_sha256(path)}, expected {expected}"
    with pytest.raises(OSError, match=pattern):
        fetch_nb201(data_home=tmp_path)
    assert path.exists()  # the user's file is left alone


@pytest.fixture
def mirror(shared_data, tmp_path, monkeypatch):
    """A local copy of the remote NB201 folder, served through real urllib via file:// URLs."""
    folder = _copy_files(shared_data / "nb201-lighton", tmp_path / "mirror", NB201_FILES)
    remote = dataclasses.replace(_fetch._REMOTE["nb201"], base_url=folder.as_uri())
    monkeypatch.setitem(_fetch._REMOTE, "nb201", remote)
    return folder


def test_fetch_downloads_verifies_and_then_works_offline(mirror, tmp_path, monkeypatch):
    home = tmp_path / "home"
    bench = fetch_nb201(data_home=home)
    folder = home / "nb201-lighton"
    assert sorted(p.name for p in folder.iterdir()) == sorted(NB201_FILES)  # no temp left
    for name, digest in _fetch._REMOTE["nb201"].sha256.items():
        assert _sha256(folder / name) == digest
    assert bench.optimum("cifar10") == (3731, 94.41)

    def offline(*args, **kwargs):
        raise AssertionError("nothing should be downloaded")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert fetch_nb201(data_home=home, download_if_missing=False).optimum() == (3731, 94.41)


def test_fetch_discards_a_corrupted_download(mirror, tmp_path):
    source = mirror / "cifar100_test_accs.npy"
    source.write_bytes(source.read_bytes()[:1000])
    home = tmp_path / "home"
    expected = _fetch._REMOTE["nb201"].sha256["cifar100_test_accs.npy"]
    with pytest.raises(OSError, match=(f"download of cifar100_test_accs.npy from .* has SHA-256 "
                                       f"{_sha256(source)}, expected {expected}")):
        fetch_nb201(data_home=home)
    names = {p.name for p in (home / "nb201-lighton").iterdir()}
    assert "cifar100_test_accs.npy" not in names
    assert not any(name.endswith(".part") for name in names)


def test_fetch_reports_a_failed_download(tmp_path, monkeypatch):
    def unreachable(url, *args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    url = re.escape(_fetch._REMOTE["nats_size"].url("arch_strings.npy"))
    with pytest.raises(OSError, match=f"could not download {url}.*no route to host.*CENAS_DATA"):
        fetch_nats_size(data_home=tmp_path)
    assert list((tmp_path / "natsss-lighton").iterdir()) == []


# ---------------------------------------------------------------- NATSBenchmark
def test_nats_tss_known_values(tss_nats):
    assert tss_nats.hp == "200" and tss_nats.metric == "test" and tss_nats.dataset == "cifar10"
    acc = tss_nats.accuracy(0)
    assert type(acc) is float
    assert acc == pytest.approx(85.86333333333334, abs=1e-12)
    assert acc == pytest.approx(np.mean([85.62, 86.18, 85.79]))  # the mean of its 3 seeds
    assert tss_nats.cost(0)["params"] == pytest.approx(0.129306)
    assert set(tss_nats.cost(0)) == {"params", "flops", "latency"}
    # The published count equals the one of the network the space builds.
    assert tss_nats.n_parameters(0) == NB201Space().n_parameters(0) == 129306
    out = tss_nats.accuracy([NB201Space()[0], 11, np.int64(284)])
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [85.86333333333334, 91.58333333333333, 88.79])
    np.testing.assert_array_equal(tss_nats.accuracy([0, 11, 284]), out)  # deterministic


def test_nats_sss_known_values(nats_sample):
    bench = NATSBenchmark(nats_sample / "NATS-sss-v1_0-50262-simple", space="sss")
    assert bench.hp == "90"
    assert bench.accuracy("8:8:40:32:40") == pytest.approx(89.51)
    assert bench.n_parameters(284) == NATSSizeSpace().n_parameters(284)
    c100 = NATSBenchmark(nats_sample, NATSSizeSpace(), dataset="cifar100", metric="valid")
    assert c100.n_parameters(284) == 148524  # 100 classes
    assert c100.accuracy(0) == pytest.approx(32.24)


def test_nats_hp_is_explicit_not_the_api_default(nats_sample, tss_nats):
    # nats_bench's get_more_info defaults to hp="12": a different, 12-epoch schedule.
    short = NATSBenchmark(nats_sample, "tss", hp=12)
    assert short.hp == "12"
    assert short.accuracy(0) == pytest.approx(69.55)
    assert tss_nats.accuracy(0) != short.accuracy(0)
    assert NATSBenchmark(nats_sample, "sss", hp=1).hp == "01"


def test_nats_missing_architecture_names_it_and_its_index(tss_nats):
    with pytest.raises(KeyError, match=re.escape(f"{NB201Space()[1]!r} (index 1) has no result")):
        tss_nats.accuracy([0, 1])
    with pytest.raises(KeyError, match="index 12345"):
        tss_nats.cost(12345)
    with pytest.raises(KeyError, match="not in the NATS-Bench tss space"):
        tss_nats.accuracy("|nor_conv_3x3~0|")
    with pytest.raises(KeyError, match="not in the NATS-Bench tss space"):
        tss_nats.accuracy(-1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dataset": "cifar10", "metric": "valid"},
         r'no validation accuracy for dataset="cifar10".*dataset="cifar10-valid"'),
        ({"dataset": "imagenet"}, "dataset must be one of .*'ImageNet16-120'"),
        ({"metric": "train"}, "metric must be one of 'valid', 'test'"),
        ({"hp": "90"}, "hp .* must be one of '12', '200' for the tss space, got '90'"),
        ({"hp": True}, "hp .* must be one of"),
        ({"space": "nas-bench-101"}, "unknown search space"),
    ],
)
def test_nats_invalid_settings(nats_sample, kwargs, match):
    with pytest.raises(ValueError, match=match):
        NATSBenchmark(nats_sample, **kwargs)


def test_nats_settings_are_normalised_and_read_only(nats_sample):
    bench = NATSBenchmark(nats_sample, "tss", dataset="imagenet16-120", metric="VALID")
    assert (bench.dataset, bench.metric) == ("ImageNet16-120", "valid")
    assert bench.accuracy(11) == pytest.approx(30.411111104329425)
    with pytest.raises(AttributeError):
        bench.dataset = "cifar100"


def test_nats_default_path_is_torch_home(nats_sample, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(nats_sample))
    bench = NATSBenchmark(space="sss")
    assert bench.archive_dir == nats_sample / "NATS-sss-v1_0-50262-simple"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "NATS-tss-v1_0-3ffb9-simple" / "meta.pickle.pbz2"
    with pytest.raises(FileNotFoundError, match=re.escape(str(expected))) as info:
        NATSBenchmark()
    assert "$TORCH_HOME" in str(info.value) and "github.com/D-X-Y/NATS-Bench" in str(info.value)


def test_nats_rejects_a_file_path_and_a_wrong_archive(nats_sample):
    with pytest.raises(FileNotFoundError, match=r"is a file; .*fast-mode archive folder"):
        NATSBenchmark(nats_sample / "LICENSE.md")
    wrong = NATSBenchmark(nats_sample / "NATS-tss-v1_0-3ffb9-simple", space="sss")
    with pytest.raises(ValueError, match="not the order of NATSSizeSpace"):
        wrong.accuracy(0)


def test_nats_pickle_round_trip_reopens_lazily(nats_sample):
    bench = NATSBenchmark(nats_sample, "tss", dataset="cifar100")
    first = bench.accuracy(0)
    assert bench._api is not None and not bench._api.arch2infos_dict  # results released
    clone = pickle.loads(pickle.dumps(bench))
    assert clone._api is None
    assert len(pickle.dumps(bench)) < 10_000  # neither the API nor its loaded results
    assert clone.accuracy(0) == first
    assert clone.accuracy(11) == bench.accuracy(11)
    assert clone._api is not None
    assert repr(clone) == repr(bench)
