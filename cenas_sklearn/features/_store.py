"""EPDJMStore: resumable, chunked, on-disk EPDJM computation for whole search spaces."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import clone

from .._device import resolve_device
from .._version import __version__
from ..spaces import NATSSizeSpace, NB201Space, SearchSpace
from ._epdjm import EPDJMTransformer, _warn_zero, flatten_features

_FORMAT = "cenas-epdjm-store"
_FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ARRAYS = ("epdjm", "singular_values", "n_parameters")
# Parameters that change the numbers; the others (device, n_jobs, verbose) may differ on resume.
_IDENTITY_PARAMS = ("space", "n_inits", "n_probe", "probe_size", "probe_images", "n_components",
                    "normalize", "flip_signs", "precision", "num_classes")


class EPDJMStore:
    """A folder holding the EPDJMs of a list of architectures, computed chunk by chunk.

    The arrays are preallocated ``.npy`` files filled in place (readable as
    memory maps, so a whole search space fits in bounded memory). A chunk
    counts as finished only once its rows are flushed and the manifest that
    lists it has been atomically replaced, so killing a computation loses at
    most the chunk in flight, and :meth:`compute` resumes where it stopped with
    results identical to an uninterrupted run.

    Create one with :meth:`create`, open an existing one with ``EPDJMStore(path)``.

    Layout: ``manifest.json`` (settings, seed, finished chunks with their
    SHA-256), ``archs.txt`` (one ``space:architecture`` key per line),
    ``probes.npy``, ``epdjm.npy`` (n_archs, n_inits, n_probe, n_components),
    ``singular_values.npy`` and ``n_parameters.npy``. Nothing is pickled.

    Parameters
    ----------
    path : str or path-like
        Folder of an existing store.

    Attributes
    ----------
    path : pathlib.Path
        Folder of the store.
    archs : list of str
        The architectures, as ``"space:architecture"`` keys (e.g. ``"sss:8:8:8:8:8"``),
        in row order.
    manifest : dict
        The parsed ``manifest.json``.

    Examples
    --------
    >>> import tempfile
    >>> from cenas_sklearn.features import EPDJMStore, EPDJMTransformer
    >>> from cenas_sklearn.spaces import NB201Space
    >>> epdjm = EPDJMTransformer(space="nb201", n_inits=2, n_probe=8, probe_size=8,
    ...                          n_components=4, random_state=0)
    >>> folder = tempfile.mkdtemp()
    >>> store = EPDJMStore.create(folder, epdjm, range(6), chunk_size=4).compute()
    >>> store.is_complete, store.features().shape
    (True, (6, 64))
    """

    def __init__(self, path):
        self.path = Path(path)
        manifest = self.path / _MANIFEST
        if not manifest.is_file():
            raise FileNotFoundError(f"no EPDJM store at {self.path} (missing {_MANIFEST})")
        try:
            self.manifest = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"corrupted EPDJM store manifest {manifest}: {exc}") from exc
        if self.manifest.get("format") != _FORMAT:
            raise ValueError(f"{manifest} is not an EPDJM store manifest")
        if self.manifest.get("format_version") != _FORMAT_VERSION:
            raise ValueError(
                f"EPDJM store {self.path} has format version "
                f"{self.manifest.get('format_version')}, this cenas_sklearn ({__version__}) "
                f"reads version {_FORMAT_VERSION}; recompute it"
            )
        self.archs = (self.path / "archs.txt").read_text().splitlines()
        if len(self.archs) != self.manifest["n_archs"]:
            raise ValueError(f"{self.path / 'archs.txt'} does not match the manifest")

    # ------------------------------------------------------------------ create
    @classmethod
    def create(cls, path, transformer, archs, *, chunk_size=256, overwrite=False):
        """Prepare (or reopen, to resume) a store for ``archs`` with ``transformer``'s settings.

        Parameters
        ----------
        path : str or path-like
            Folder of the store; created if missing.
        transformer : EPDJMTransformer
            Settings to use. An unfitted transformer is cloned and fitted; a fitted
            one keeps its seed and probes.
        archs : iterable of str or int
            Architectures as strings or indices of ``transformer.space``
            (module factories cannot be stored: they have no stable name).
        chunk_size : int, default=256
            Architectures per chunk: the unit of work lost on interruption and the
            bound on memory in use.
        overwrite : bool, default=False
            Replace an existing store with different settings instead of raising.

        Returns
        -------
        store : EPDJMStore
            A new store, or the existing one at ``path`` when its settings and
            architectures are the same (so that :meth:`compute` resumes it).
        """
        if not isinstance(transformer, EPDJMTransformer):
            raise TypeError(f"transformer must be an EPDJMTransformer, got {type(transformer)}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        if not hasattr(transformer, "seed_"):
            transformer = clone(transformer).fit()
        items = transformer._architectures(archs)
        keys = [key for key, _ in items]
        if any(key is None for key in keys):
            raise TypeError(
                "an EPDJM store needs architectures given as strings or indices; module "
                "factories have no stable name to resume by"
            )
        path = Path(path)
        settings = _settings(transformer)
        if (path / _MANIFEST).exists():
            existing = cls(path)
            same = existing.manifest["settings"] == settings and existing.archs == keys \
                and existing.manifest["seed"] == transformer.seed_ \
                and _same_probes(existing, transformer.probe_images_)
            if same:
                return existing
            if not overwrite:
                raise ValueError(
                    f"{path} holds an EPDJM store with other settings or architectures; "
                    "pass overwrite=True to replace it, or choose another folder"
                )
            (path / _MANIFEST).unlink()
        path.mkdir(parents=True, exist_ok=True)
        n = len(keys)
        n_inits, n_probe, k = transformer.feature_shape_
        n_pixels = transformer.probe_images_[0].size
        _atomic_save(path / "probes.npy", transformer.probe_images_)
        (path / "archs.txt").write_text("".join(f"{key}\n" for key in keys))
        shapes = {
            "epdjm": ((n, n_inits, n_probe, k), "float32"),
            "singular_values": ((n, n_inits, min(n_probe, n_pixels)), "float32"),
            "n_parameters": ((n,), "int64"),
        }
        for name, (shape, dtype) in shapes.items():
            tmp = path / f".{name}.npy.tmp"
            np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape).flush()
            os.replace(tmp, path / f"{name}.npy")
        manifest = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "cenas_sklearn_version": __version__,
            "settings": settings,
            "seed": transformer.seed_,
            "n_archs": n,
            "chunk_size": chunk_size,
            "shapes": {name: list(shape) for name, (shape, _) in shapes.items()},
            "done": {},
        }
        _atomic_write_json(path / _MANIFEST, manifest)
        return cls(path)

    # ------------------------------------------------------------------ state
    def __len__(self):
        return self.manifest["n_archs"]

    def __repr__(self):
        return f"EPDJMStore({str(self.path)!r}, {self.n_done}/{len(self)} architectures done)"

    @property
    def n_chunks(self) -> int:
        """Number of chunks the architectures are computed in."""
        return -(-len(self) // self.manifest["chunk_size"])

    def _chunk_bounds(self, chunk):
        size = self.manifest["chunk_size"]
        return chunk * size, min(len(self), (chunk + 1) * size)

    @property
    def n_done(self) -> int:
        """Number of architectures whose features are finished."""
        return sum(b - a for a, b in map(self._chunk_bounds, map(int, self.manifest["done"])))

    @property
    def is_complete(self) -> bool:
        """Whether every chunk is finished."""
        return len(self.manifest["done"]) == self.n_chunks

    def transformer(self) -> EPDJMTransformer:
        """A fitted :class:`EPDJMTransformer` reproducing this store's features."""
        settings = dict(self.manifest["settings"])
        space = settings.pop("space")
        if isinstance(space, dict):
            space = {"NB201Space": NB201Space, "NATSSizeSpace": NATSSizeSpace}[space["type"]](
                **space["params"])
        probes = self._load("probes.npy")
        settings["probe_images"] = probes if settings["probe_images"] == "array" \
            else settings["probe_images"]
        est = EPDJMTransformer(space=space, **settings).fit()
        est.seed_ = self.manifest["seed"]
        if not np.array_equal(est.probe_images_, probes):
            raise ValueError(f"the probes of {self.path} differ from the ones regenerated now")
        return est

    # ------------------------------------------------------------------ compute
    def compute(self, *, n_jobs=None, device="auto", verbose=0):
        """Compute every unfinished chunk; safe to interrupt and call again.

        Parameters
        ----------
        n_jobs : int, default=None
            Parallel architectures (joblib, as in :class:`EPDJMTransformer`).
        device : str, default="auto"
            Torch device for this run.
        verbose : int, default=0
            Progress bar over architectures when positive.

        Returns
        -------
        self : EPDJMStore
        """
        from tqdm.auto import tqdm

        est = self.transformer().set_params(n_jobs=n_jobs, device=device, verbose=0)
        est.device_ = resolve_device(device)
        todo = [c for c in range(self.n_chunks) if str(c) not in self.manifest["done"]]
        for name in _ARRAYS:  # check first: mode "r+" would silently extend a truncated file
            self._array(name, "r", allow_incomplete=True)
        arrays = {name: self._load(f"{name}.npy", mmap_mode="r+") for name in _ARRAYS}
        with tqdm(total=len(self), initial=self.n_done, disable=not verbose, unit="arch",
                  desc="EPDJM store") as progress:
            for chunk in todo:
                start, stop = self._chunk_bounds(chunk)
                out = est.compute([key.split(":", 1)[1] for key in self.archs[start:stop]])
                for name, values in (("epdjm", out.epdjm),
                                     ("singular_values", out.singular_values),
                                     ("n_parameters", out.n_parameters)):
                    arrays[name][start:stop] = values
                    arrays[name].flush()
                self.manifest["done"][str(chunk)] = _digest(arrays["epdjm"][start:stop])
                _atomic_write_json(self.path / _MANIFEST, self.manifest)
                progress.update(stop - start)
        return self

    # ------------------------------------------------------------------ read
    def _load(self, name, mmap_mode=None):
        file = self.path / name
        try:
            return np.load(file, mmap_mode=mmap_mode, allow_pickle=False)
        except FileNotFoundError:
            raise FileNotFoundError(f"EPDJM store {self.path} lacks {name}") from None
        except ValueError as exc:
            raise ValueError(f"corrupted array {file}: {exc}") from exc

    def _array(self, name, mmap_mode, allow_incomplete):
        if not allow_incomplete and not self.is_complete:
            raise ValueError(
                f"EPDJM store {self.path} is incomplete ({self.n_done}/{len(self)} "
                "architectures); call compute() to finish it, or pass allow_incomplete=True"
            )
        arr = self._load(f"{name}.npy", mmap_mode)
        if list(arr.shape) != self.manifest["shapes"][name]:
            raise ValueError(
                f"{self.path / (name + '.npy')} has shape {arr.shape}, the manifest says "
                f"{tuple(self.manifest['shapes'][name])}"
            )
        return arr

    def epdjm(self, *, mmap_mode="r", allow_incomplete=False):
        """EPDJMs, shape (n_archs, n_inits, n_probe, n_components), memory-mapped by default."""
        return self._array("epdjm", mmap_mode, allow_incomplete)

    def features(self, *, mmap_mode="r", allow_incomplete=False,
                 append_log_n_parameters=False):
        """EPDJMs flattened as :meth:`EPDJMTransformer.transform` returns them.

        A memory map by default; with ``append_log_n_parameters``, an in-memory
        array with the log parameter counts as a last column.
        """
        arr = self.epdjm(mmap_mode=mmap_mode, allow_incomplete=allow_incomplete)
        return flatten_features(arr, self.n_parameters(allow_incomplete=allow_incomplete)
                                if append_log_n_parameters else None)

    def singular_values(self, *, allow_incomplete=False):
        """Singular values of each Jacobian, shape (n_archs, n_inits, min(n_probe, n_pixels))."""
        return np.asarray(self._array("singular_values", None, allow_incomplete))

    def n_parameters(self, *, allow_incomplete=False):
        """Parameter count of each architecture's network."""
        return np.asarray(self._array("n_parameters", None, allow_incomplete))

    def verify(self):
        """Check every finished chunk against its recorded SHA-256; raise ``ValueError`` if not."""
        arr = self._array("epdjm", "r", allow_incomplete=True)
        for chunk, digest in self.manifest["done"].items():
            start, stop = self._chunk_bounds(int(chunk))
            if _digest(arr[start:stop]) != digest:
                raise ValueError(
                    f"EPDJM store {self.path}: chunk {chunk} (architectures {start}..{stop - 1}) "
                    "does not match its checksum; delete its entry from the manifest or recompute"
                )
        zero = ~self.singular_values(allow_incomplete=True).any(axis=(1, 2))
        done = np.zeros(len(self), dtype=bool)
        for chunk in self.manifest["done"]:
            done[slice(*self._chunk_bounds(int(chunk)))] = True
        _warn_zero(zero & done, self.archs)
        return self


def _settings(est) -> dict:
    params = {name: est.get_params()[name] for name in _IDENTITY_PARAMS}
    space = params["space"]
    if isinstance(space, SearchSpace):
        if type(space) not in (NB201Space, NATSSizeSpace):
            raise TypeError(f"an EPDJM store cannot record the custom space {space!r}")
        params["space"] = {"type": type(space).__name__,
                           "params": dict(zip(("C", "N"), space._key(), strict=False))}
    if not isinstance(params["probe_images"], str):
        params["probe_images"] = "array"
    return params


def _same_probes(store, probes) -> bool:
    # Array probes are recorded as "array" in the settings: compare the arrays themselves.
    try:
        return np.array_equal(store._load("probes.npy"), probes)
    except (OSError, ValueError):
        return False


def _digest(arr) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def _atomic_write_json(path: Path, obj) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_save(path: Path, arr) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
