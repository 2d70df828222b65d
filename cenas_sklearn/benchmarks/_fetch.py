"""Find, verify and, when missing, download the tabular benchmark files."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..spaces import get_space
from ._tabular import TabularBenchmark

logger = logging.getLogger(__name__)

#: Environment variable naming the data home (a folder holding ``nb201-lighton/``...).
DATA_HOME_ENV = "CENAS_DATA"

_REPOSITORY = "lightonai/contrastive-embeddings-for-neural-architectures"
_COMMIT = "8606a4a4d7ea9ed9c01964660e8b2afb1e003480"  # pinned: the checksums are of this commit
_RAW_URL = f"https://raw.githubusercontent.com/{_REPOSITORY}/{_COMMIT}/SearchSpaces"
_CHUNK_SIZE = 1 << 16
_TIMEOUT_S = 60


@dataclass(frozen=True)
class _RemoteTable:
    """Where a table lives locally (a folder of the data home) and remotely, and its hashes."""

    folder: str
    base_url: str
    sha256: dict[str, str]

    def url(self, filename: str) -> str:
        return f"{self.base_url}/{filename}"


_REMOTE = {
    "nb201": _RemoteTable(
        folder="nb201-lighton",
        base_url=f"{_RAW_URL}/Bench201",
        sha256={
            "configs.txt": "83abc799e45cf34e9d2163654668ab998b9a54d01c39e72ca1f71f2cdf356d84",
            "cifar10_test_accs.npy":
                "21be24613bc5e894f6bca4bf6bf15eae5c9079afbf9ea0ee2788595e0a75e418",
            "cifar100_test_accs.npy":
                "ec0d17fe82858fde8f98b0b3b0ba7fcd421d9ec40bd9b2d12bd1d7179584f4cf",
        },
    ),
    "nats_size": _RemoteTable(
        folder="natsss-lighton",
        base_url=f"{_RAW_URL}/BenchNatsss",
        sha256={
            "arch_strings.npy": "810ffb6d4bbfcdd3a42ffd6b3d39daca53110260715ccd89e63eb3636519ee0a",
            "cifar10_accs.npy": "fb28ab473ad084d0360626c58f750e92e237ac4fe253e5a2cc42bab8c9c6c745",
            "cifar100_accs.npy": "10669ea2ccd27c5532503ea4ca98eff1ea60ae400596232af52780db6cabccca",
        },
    ),
}


def get_data_home(data_home=None) -> str:
    """The folder where cenas_sklearn keeps benchmark tables.

    Like :func:`sklearn.datasets.get_data_home`: ``data_home`` if given, else
    the folder named by the environment variable ``CENAS_DATA``, else
    ``~/cenas_sklearn_data``. ``~`` is expanded. Unlike scikit-learn's, the
    folder is not created here; it is created when a file is downloaded.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use; default: as above.

    Returns
    -------
    data_home : str
        The path of the folder (it may not exist).

    Examples
    --------
    >>> from cenas_sklearn.benchmarks import get_data_home
    >>> get_data_home("/data/nas")
    '/data/nas'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or os.path.join("~", "cenas_sklearn_data")
    return os.path.expanduser(os.fspath(data_home))


def fetch_nb201(*, data_home=None, download_if_missing=True) -> TabularBenchmark:
    """Load the NAS-Bench-201 accuracy table (15,625 architectures).

    The table of LightOn's *contrastive embeddings for neural architectures*
    (MIT licence): for every architecture of
    :class:`~cenas_sklearn.spaces.NB201Space`, its CIFAR-10 and CIFAR-100
    **test** accuracy in percent after 200 epochs. Each value comes from a
    **single training run** (one seed per architecture), so it differs from
    NATS-Bench's mean over seeds (:class:`NATSBenchmark`): the CIFAR-10
    optimum is architecture 3731 at 94.41, where the mean-over-seeds optimum
    is 94.37. CIFAR-100 is NATS-Bench's ``x-test`` split (half of the test set).

    The files are read from ``<data_home>/nb201-lighton/``, after checking
    their SHA-256 checksum; missing files are downloaded from the pinned
    commit of the `GitHub repository
    <https://github.com/lightonai/contrastive-embeddings-for-neural-architectures>`__.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data home; default: see :func:`get_data_home`.
    download_if_missing : bool, default=True
        Download missing files; if False, raise :class:`FileNotFoundError`.

    Returns
    -------
    bench : TabularBenchmark
        Datasets ``"cifar10"`` and ``"cifar100"``, metric ``"test"``.

    Raises
    ------
    FileNotFoundError
        If a file is missing and ``download_if_missing`` is False; the
        message gives where it looked and where to get the file.
    OSError
        If a file (present or downloaded) does not have the expected
        checksum, or the download fails.

    Examples
    --------
    >>> from cenas_sklearn.benchmarks import fetch_nb201
    >>> bench = fetch_nb201()  # doctest: +SKIP
    >>> bench.optimum("cifar10")  # doctest: +SKIP
    (3731, 94.41)
    """
    folder = _ensure_files(_REMOTE["nb201"], data_home, download_if_missing, "fetch_nb201")
    return TabularBenchmark.from_folder(folder, get_space("nb201"), name="nb201-lighton")


def fetch_nats_size(*, data_home=None, download_if_missing=True) -> TabularBenchmark:
    """Load the NATS-Bench size-space accuracy table (32,768 architectures).

    The table of LightOn's *contrastive embeddings for neural architectures*
    (MIT licence) for :class:`~cenas_sklearn.spaces.NATSSizeSpace`. Its
    values are **validation** accuracies in percent after 90 epochs, not
    test accuracies (checked against the NATS-Bench archives): dataset
    ``"cifar10-valid"`` is the ``x-valid`` accuracy of a network trained on
    the CIFAR-10 train split, ``"cifar100"`` the ``x-valid`` accuracy on
    CIFAR-100 (half of its test set). They equal
    ``NATSBenchmark(space="sss", dataset=..., metric="valid", hp="90")``.

    The files are read from ``<data_home>/natsss-lighton/``, after checking
    their SHA-256 checksum; missing files are downloaded from the pinned
    commit of the `GitHub repository
    <https://github.com/lightonai/contrastive-embeddings-for-neural-architectures>`__.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data home; default: see :func:`get_data_home`.
    download_if_missing : bool, default=True
        Download missing files; if False, raise :class:`FileNotFoundError`.

    Returns
    -------
    bench : TabularBenchmark
        Datasets ``"cifar10-valid"`` and ``"cifar100"``, metric ``"valid"``.

    Raises
    ------
    FileNotFoundError
        If a file is missing and ``download_if_missing`` is False; the
        message gives where it looked and where to get the file.
    OSError
        If a file (present or downloaded) does not have the expected
        checksum, or the download fails.

    Examples
    --------
    >>> from cenas_sklearn.benchmarks import fetch_nats_size
    >>> bench = fetch_nats_size()  # doctest: +SKIP
    >>> bench.accuracy("8:8:40:32:40", dataset="cifar10-valid")  # doctest: +SKIP
    86.79599999511719
    """
    folder = _ensure_files(_REMOTE["nats_size"], data_home, download_if_missing,
                           "fetch_nats_size")
    return TabularBenchmark.from_folder(folder, get_space("sss"), name="natsss-lighton")


# ---------------------------------------------------------------------- files
def _ensure_files(remote: _RemoteTable, data_home, download_if_missing: bool,
                  caller: str) -> Path:
    """The local folder of ``remote``, every file present and verified."""
    home = get_data_home(data_home)
    folder = Path(home) / remote.folder
    missing = [name for name in remote.sha256 if not (folder / name).is_file()]
    if missing and not download_if_missing:
        listing = "\n".join(f"  {folder / name}  <-  {remote.url(name)}" for name in missing)
        raise FileNotFoundError(
            f"{caller} looked for its files in {folder} and did not find:\n{listing}\n"
            f"Download them there, pass data_home=, or set the environment variable "
            f"{DATA_HOME_ENV} to a folder holding {remote.folder}/; "
            "or pass download_if_missing=True."
        )
    for name, expected in remote.sha256.items():
        path = folder / name
        if name in missing:
            _download(remote.url(name), path, expected)
        else:
            _verify(path, expected, remote.url(name))
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, expected: str, url: str) -> None:
    actual = _sha256(path)
    if actual != expected:
        raise OSError(
            f"{path} has SHA-256 {actual}, expected {expected}: it is corrupted or not the "
            f"pinned version. Delete it to have it downloaded again, or replace it with {url}"
        )


def _download(url: str, path: Path, expected: str) -> None:
    """Download ``url`` to ``path`` through a temporary file, renamed only once verified."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    logger.info("Downloading %s to %s", url, path)
    digest = hashlib.sha256()
    try:
        # os.open with mode 0o666 lets the umask set the permissions, as for any new file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
                    for chunk in iter(lambda: response.read(_CHUNK_SIZE), b""):
                        digest.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError) as exc:
                raise OSError(
                    f"could not download {url} to {path}: {exc}. Without internet access, "
                    f"copy the file there yourself or set {DATA_HOME_ENV} to a folder holding "
                    f"{path.parent.name}/"
                ) from exc
        actual = digest.hexdigest()
        if actual != expected:
            raise OSError(
                f"the download of {path.name} from {url} has SHA-256 {actual}, expected "
                f"{expected}: it is corrupted or the remote file changed; nothing was written "
                f"to {path}"
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
