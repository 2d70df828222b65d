import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cenas_sklearn.cli import main
from cenas_sklearn.features import EPDJMStore

TINY = ["--n-probe", "8", "--probe-size", "8", "--n-inits", "2", "--n-components", "4",
        "--quiet"]


def test_spaces_lists_both_spaces(capsys):
    assert main(["spaces"]) == 0
    out = capsys.readouterr().out
    assert "15625" in out and "6466" in out and "32768" in out
    assert "1,288,506" in out and "713,674" in out


def test_demo_runs_and_prints_a_table(capsys):
    assert main(["demo", "--n-archs", "1"]) == 0
    out = capsys.readouterr().out
    assert "EPDJMs of 2 untrained networks" in out
    assert out.count("nb201 ") == 1 and out.count("sss ") == 1


def test_epdjm_writes_a_store_and_resumes(tmp_path, capsys):
    out = tmp_path / "store"
    argv = ["epdjm", "--space", "nb201", "--n-archs", "5", "--chunk-size", "2",
            "--out", str(out), *TINY]
    assert main(argv) == 0
    store = EPDJMStore(out)
    assert store.is_complete and store.features().shape == (5, 2 * 8 * 4)
    assert main(argv) == 0  # the same command again: nothing left to do
    assert "5/5 architectures already done" in capsys.readouterr().out


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
     ["epdjm", "--space", "nb201", "--out", "x", "--n-archs", "many"]],
)
def test_malformed_command_lines_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: cenas" in capsys.readouterr().err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["epdjm", "--help"])
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out


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
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if manifest.exists():
                done = json.loads(manifest.read_text())["done"]
                if len(done) >= 2:
                    break
            if proc.poll() is not None:
                pytest.fail("the run finished before it could be killed; make it longer")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
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
