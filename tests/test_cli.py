import json
import os
import subprocess
import sys

import joblib
import numpy as np
import pytest

from cenas_sklearn.benchmarks import fetch_nats_size, fetch_nb201
from cenas_sklearn.cli import main
from cenas_sklearn.features import EPDJMStore, gaussian_probe_images

from ._processes import sigkill_when

TINY = ["--n-probe", "8", "--probe-size", "8", "--n-inits", "2", "--n-components", "4",
        "--quiet"]


def test_spaces_lists_both_spaces(capsys):
    assert main(["spaces"]) == 0
    out = capsys.readouterr().out
    assert "15625" in out and "6466" in out and "32768" in out
    assert "1,288,506" in out and "713,674" in out


_DEMO_TINY = ["--n-archs", "16", "--n-evaluations", "5", "--n-initial-points", "2",
              "--embed-epochs", "3", "--quiet"]


def test_demo_trains_candidates_and_writes_report_and_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo"
    assert main(["demo", *_DEMO_TINY, "--train-epochs", "1", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["format"] == "cenas_sklearn.demo.report"
    assert report["n_architectures"] == 16 and report["n_evaluations"] == 5
    assert set(report["methods"]) == {"BO on embeddings", "random search"}
    for method in report["methods"].values():
        run = method["first_seed"]
        assert len(run["queried"]) == 5 and len(set(run["queried"])) == 5
        accs = [v for v in run["values"] if v is not None]
        assert accs and all(0.0 <= v <= 100.0 for v in accs)
        assert method["mean_best"] == max(accs) == run["best_value"]
    assert (out / "demo.png").stat().st_size > 10_000
    assert 0.0 <= report["embedder"]["identification_accuracy"] <= 1.0
    assert set(report["timings_s"]) == {"epdjm", "embedding", "search", "total"}


def test_demo_replays_on_a_benchmark_table(tmp_path, shared_data):
    out = tmp_path / "demo"
    argv = ["demo", *_DEMO_TINY, "--benchmark", str(shared_data), "--n-seeds", "3",
            "--dataset", "cifar100", "--out", str(out)]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["seeds"] == [0, 1, 2] and "cifar100" in report["objective"]
    bench = fetch_nb201(data_home=shared_data, download_if_missing=False)
    for method in report["methods"].values():
        run = method["first_seed"]
        expected = [bench.accuracy(a, "cifar100") for a in run["queried"]]
        np.testing.assert_allclose(run["values"], expected)
        assert run["best_value"] == max(expected)


def test_demo_rejects_more_evaluations_than_candidates(tmp_path, capsys):
    argv = ["demo", "--n-archs", "3", "--n-evaluations", "4", "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "n_evaluations=4 exceeds n_archs=3" in capsys.readouterr().err


def test_epdjm_writes_a_store_and_resumes(tmp_path, capsys):
    out = tmp_path / "store"
    argv = ["epdjm", "--space", "nb201", "--n-archs", "5", "--chunk-size", "2",
            "--out", str(out), *TINY]
    assert main(argv) == 0
    store = EPDJMStore(out)
    assert store.is_complete and store.features().shape == (5, 2 * 8 * 4)
    assert main(argv) == 0  # the same command again: nothing left to do
    assert "5/5 architectures already done" in capsys.readouterr().out


def test_epdjm_probe_images_option_reaches_the_store(tmp_path):
    argv = ["epdjm", "--space", "nb201", "--n-archs", "2", "--out", str(tmp_path / "s"),
            "--probe-images", "gaussian", *TINY]
    assert main(argv) == 0
    store = EPDJMStore(tmp_path / "s")
    assert store.manifest["settings"]["probe_images"] == "gaussian"
    np.testing.assert_array_equal(np.load(tmp_path / "s" / "probes.npy"),
                                  gaussian_probe_images(8, 8))


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("stores")
    for space, n in (("nb201", 24), ("sss", 20)):
        assert main(["epdjm", "--space", space, "--n-archs", str(n), "--out",
                     str(root / f"{space}-s"), *TINY]) == 0
    return root / "nb201-s", root / "sss-s"


def test_embed_trains_on_several_stores_and_writes_aligned_files(two_stores, tmp_path):
    out = tmp_path / "emb"
    argv = ["embed", *map(str, two_stores), "--out", str(out), "--max-iter", "3",
            "--embedding-dim", "8", "--quiet"]
    assert main(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_fit"] == 44 and manifest["params"]["embedding_dim"] == 8
    embedder = joblib.load(out / "embedder.joblib")
    for store_path in two_stores:
        store = EPDJMStore(store_path)
        emb = np.load(out / f"{store_path.name}.npy", allow_pickle=False)
        assert emb.shape == (len(store), 8) and emb.dtype == np.float32
        assert (out / f"{store_path.name}.archs.txt").read_text().splitlines() == store.archs
        np.testing.assert_allclose(emb, embedder.transform(store.features()), rtol=1e-6)
    # --n-fit trains on a sample of each store, and still embeds every architecture
    assert main([*argv[:-1], "--n-fit", "10", "--out", str(tmp_path / "e2"), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "e2" / "manifest.json").read_text())
    assert manifest["n_fit"] == 20
    assert np.load(tmp_path / "e2" / "sss-s.npy").shape == (20, 8)
    # --log-n-parameters: the embedder also reads each network's log parameter count
    assert main([*argv[:-1], "--log-n-parameters", "--out", str(tmp_path / "e3"),
                 "--quiet"]) == 0
    embedder = joblib.load(tmp_path / "e3" / "embedder.joblib")
    assert embedder.log_n_parameters
    store = EPDJMStore(two_stores[1])
    np.testing.assert_allclose(np.load(tmp_path / "e3" / "sss-s.npy"),
                               embedder.transform(store.features(append_log_n_parameters=True)),
                               rtol=1e-6)


def test_embed_refuses_stores_of_different_shapes(two_stores, tmp_path, capsys):
    other = tmp_path / "other"
    assert main(["epdjm", "--space", "nb201", "--n-archs", "3", "--out", str(other),
                 *TINY[:-2], "2", "--quiet"]) == 0  # n_components 2, not 4
    assert main(["embed", str(two_stores[0]), str(other), "--out", str(tmp_path / "e")]) == 1
    assert "different EPDJM shapes" in capsys.readouterr().err


def test_search_and_simulate_on_the_nb201_table(two_stores, tmp_path, shared_data, capsys):
    emb_dir = tmp_path / "emb"
    assert main(["embed", str(two_stores[0]), "--out", str(emb_dir), "--max-iter", "2",
                 "--embedding-dim", "8", "--quiet"]) == 0
    emb = str(emb_dir / "nb201-s.npy")
    common = ["--data-home", str(shared_data), "--dataset", "cifar100", "--embeddings", emb,
              "--n-initial-points", "3"]
    history = tmp_path / "history.json"
    assert main(["search", *common, "--n-iter", "8", "--seed", "1", "--out", str(history),
                 "--quiet"]) == 0
    result = json.loads(history.read_text())
    bench = fetch_nb201(data_home=shared_data, download_if_missing=False)
    candidates = [key.split(":", 1)[1]
                  for key in (emb_dir / "nb201-s.archs.txt").read_text().splitlines()]
    values = [bench.accuracy(a, "cifar100") for a in candidates]
    assert len(result["history"]) == 8
    assert {h["architecture"] for h in result["history"]} <= set(candidates)
    for h in result["history"]:
        assert h["value"] == pytest.approx(bench.accuracy(h["architecture"], "cifar100"))
    assert result["best_value"] == max(h["value"] for h in result["history"])
    assert result["optimum_among_candidates"] == pytest.approx(max(values))

    out = tmp_path / "sim"
    assert main(["simulate", *common, "--methods", "bo", "random", "rea", "onehot",
                 "--seeds", "2", "--n-queries", "12", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for method in ("bo", "random", "rea", "onehot"):
        curves = json.loads((out / f"cifar100_{method}.json").read_text())
        assert curves["seeds"] == [0, 1] and curves["n_queries"] == 12
        assert curves["optimum"] == pytest.approx(max(values))
        assert f"{method} " in printed


@pytest.mark.parametrize("features, align, n_embedders", [
    ("embedding", "standardize", 1), ("embedding", "standardize", 2),
    ("embedding+params", "none", 2), ("spectral", "standardize", 2), ("params", "none", 1)])
def test_transfer_ranks_the_target_store_and_scores_it(features, align, n_embedders,
                                                       two_stores, tmp_path, shared_data,
                                                       capsys):
    from scipy.stats import kendalltau

    out = tmp_path / "pred.csv"
    argv = ["transfer", "--source", str(two_stores[0]), "--target", str(two_stores[1]),
            "--data-home", str(shared_data), "--features", features, "--max-iter", "2",
            "--align", align, "--n-embedders", str(n_embedders),
            "--target-dataset", "cifar100", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    lines = out.read_text().splitlines()
    assert lines[0] == "architecture,prediction,accuracy"
    rows = [line.split(",") for line in lines[1:]]
    assert [r[0] for r in rows] == [k.split(":", 1)[1] for k in EPDJMStore(two_stores[1]).archs]
    sss = fetch_nats_size(data_home=shared_data, download_if_missing=False)
    truth = [sss.accuracy(r[0], "cifar100") for r in rows]
    np.testing.assert_allclose([float(r[2]) for r in rows], truth, rtol=1e-5)
    tau = kendalltau([float(r[1]) for r in rows], truth).statistic
    assert f"Kendall tau {tau:.3f}" in printed
    ensemble = n_embedders > 1 and features.startswith("embedding")
    assert (f"features: {features} (2 embedders)," in printed) == ensemble


@pytest.mark.parametrize(
    "argv, message",
    [
        (["search", "--data-home", "{tmp}"], "no nb201 benchmark table in"),
        (["simulate", "--space", "sss", "--data-home", "{tmp}"], "no sss benchmark table"),
        (["search", "--data-home", "{shared}", "--embeddings", "{tmp}/missing.npy"],
         "no embeddings file"),
        (["search", "--data-home", "{shared}", "--method", "bo"], "method bo needs --embeddings"),
        (["search", "--data-home", "{shared}", "--embeddings", "{tmp}/wrong.npy"],
         "needs a row per architecture of the nb201 space"),
        (["embed", "{tmp}", "--out", "{tmp}/e"], "no EPDJM store at"),
        (["demo", "--benchmark", "{tmp}"], "no nb201 benchmark table in"),
        (["transfer", "--source", "{tmp}", "--target", "{tmp}"], "no EPDJM store at"),
    ],
)
def test_new_commands_user_errors_are_one_line(argv, message, tmp_path, shared_data, capsys):
    np.save(tmp_path / "wrong.npy", np.zeros((10, 4)))
    argv = [a.format(tmp=tmp_path, shared=shared_data) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("cenas: error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["epdjm", "--space", "nb201", "--n-archs", "2", "--n-probe", "4", "--probe-size", "4",
          "--n-components", "8"], "n_components=8 must be <= n_probe=4"),
        (["epdjm", "--space", "sss", "--n-archs", "40000", *TINY], "exceeds the 32768"),
        (["epdjm", "--space", "nb201", "--n-archs", "2", "--device", "tpu", *TINY],
         "device must be"),
    ],
)
def test_user_errors_are_one_line_exit_1(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cenas: error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_store_with_other_settings_is_not_clobbered(tmp_path, capsys):
    out = str(tmp_path / "s")
    assert main(["epdjm", "--space", "nb201", "--n-archs", "2", "--out", out, *TINY]) == 0
    argv = ["epdjm", "--space", "nb201", "--n-archs", "2", "--out", out, *TINY[:-1],
            "--normalize", "--quiet"]
    assert main(argv) == 1
    assert "overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0


@pytest.mark.parametrize(
    "argv",
    [[], ["nope"], ["epdjm"], ["epdjm", "--space", "foo", "--out", "x"],
     ["epdjm", "--space", "nb201", "--out", "x", "--n-probe", "0"],
     ["epdjm", "--space", "nb201", "--out", "x", "--n-archs", "many"],
     ["embed", "--out", "x"], ["search", "--method", "gp"], ["simulate", "--seeds", "0"],
     ["demo", "--n-evaluations", "-1"], ["simulate", "--space", "darts"]],
)
def test_malformed_command_lines_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: cenas" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["demo", "epdjm", "embed", "search", "simulate",
                                     "transfer"])
def test_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"examples:\n  cenas {command}" in capsys.readouterr().out


@pytest.mark.timeout(300)
def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path):
    """Killing ``cenas epdjm`` loses at most the chunk in flight; the resumed store is identical."""
    args = ["epdjm", "--space", "sss", "--n-archs", "12", "--chunk-size", "1", "--seed", "3",
            *TINY]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "cenas_sklearn", *args, "--out", str(killed)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = killed / "manifest.json"

    def two_chunks_done():
        return manifest.exists() and len(json.loads(manifest.read_text())["done"]) >= 2

    sigkill_when(proc, two_chunks_done, timeout=240, waiting_for="its second chunk")
    partial = EPDJMStore(killed)
    assert 2 <= partial.n_done < 12
    finished = dict(partial.manifest["done"])

    assert main([*args, "--out", str(killed)]) == 0
    resumed = EPDJMStore(killed).verify()
    # chunks finished before the kill were kept, not recomputed
    assert {k: resumed.manifest["done"][k] for k in finished} == finished

    assert main([*args, "--out", str(tmp_path / "clean")]) == 0
    clean = EPDJMStore(tmp_path / "clean")
    np.testing.assert_array_equal(resumed.features(), clean.features())
    np.testing.assert_array_equal(resumed.singular_values(), clean.singular_values())
    np.testing.assert_array_equal(resumed.n_parameters(), clean.n_parameters())
    assert resumed.archs == clean.archs
