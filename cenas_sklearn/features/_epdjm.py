"""EPDJMTransformer: data-Jacobian features of untrained networks."""

from __future__ import annotations

import numbers
import warnings
from functools import partial

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from .._persistence import VersionedPickleMixin
from ..spaces._resolve import _ALIASES, get_space, infer_space
from ._jacobian import ZeroJacobianWarning, compute_epdjm, init_seed
from ._probes import gaussian_probe_images, natural_probe_images

_DEFAULT_N_PROBE = 256
_DEFAULT_PROBE_SIZE = 32


class EPDJMTransformer(VersionedPickleMixin, TransformerMixin, BaseEstimator):
    """Eigen-projected data-Jacobian matrices (EPDJM) of untrained networks.

    For each architecture and each of ``n_inits`` independent random
    initialisations (PyTorch's default initialisation, seeded from
    ``random_state``), a fixed batch of probe images goes through the network
    in training mode (BatchNorm on batch statistics, as at initialisation).
    The gradient of the **sum of all logits** with respect to the input images
    gives the data Jacobian ``J`` (``n_probe`` x ``C*H*W``, one row per image).
    Its EPDJM is ``U_k Σ_k``, the projection of ``J`` on its top
    ``n_components`` right-singular directions (Hesslow & Poli, 2021).

    Like :class:`~sklearn.feature_extraction.text.CountVectorizer`, ``X`` is an
    iterable of objects rather than a numeric matrix. Each architecture is

    - an NB201 string (``"|nor_conv_3x3~0|+|...|"``) or a NATS size-space string
      (``"8:16:32:64:64"``), recognised by its notation or read in ``space``;
    - an integer index in ``space``;
    - any callable returning a fresh ``torch.nn.Module`` whose forward returns
      logits (e.g. a class, or a ``functools.partial``); it is called once per
      initialisation, with the torch generator seeded.

    Parameters
    ----------
    space : {"nb201", "sss", ...} or SearchSpace, default=None
        Space in which strings and indices are read. ``None`` recognises
        strings by their notation (NB201 or size space, default network
        settings) and rejects integers.
    n_inits : int, default=4
        Number of independent random initialisations per architecture.
    n_probe : int, default=None
        Number of generated probe images (256 when ``None``). Must be ``None``
        or match the array when ``probe_images`` is an array.
    probe_size : int, default=None
        Height and width of generated probe images (32 when ``None``). Must be
        ``None`` or match the array when ``probe_images`` is an array.
    probe_images : {"natural", "gaussian"} or array-like of shape \
            (n_probe, channels, height, width), default="natural"
        The probe batch. ``"natural"``: CIFAR-normalised crops of the sample
        photographs shipped with scikit-learn (see
        :func:`~cenas_sklearn.features.natural_probe_images`); ``"gaussian"``:
        standard normal noise. Generated probes are drawn with a fixed seed, so
        they are identical whatever ``random_state``.
    n_components : int, default=128
        Number ``k`` of singular directions kept; at most ``n_probe``.
    normalize : bool, default=False
        Divide each EPDJM by its top singular value (the variant the authors
        found better for transfer across spaces). Loses the Jacobian's overall
        scale.
    flip_signs : bool, default=True
        Sign each singular direction so that its largest-magnitude entry is
        positive; without it the signs are whatever the eigensolver returns.
    precision : {"float32", "float64"}, default="float32"
        Arithmetic of the networks and Jacobians. The data Jacobian of a
        BatchNorm network in training mode sums large terms that cancel: in
        float32 it is typically 0.05-1% (relative Frobenius norm) away from the
        float64 value at 64 probes of 16x16, and its largest entries up to 5%
        away at the paper's 256 probes of 32x32, so the smallest singular
        directions carry rounding noise. ``"float64"`` is exact to that level
        and about twice as slow on CPU. Outputs are float32 either way.
    append_log_n_parameters : bool, default=False
        Append one last column to :meth:`transform`'s output: the natural log of
        each network's parameter count (read by
        ``ContrastiveEmbedder(log_n_parameters=True)`` and
        ``SpectralFeatures(log_n_parameters=True)``); 0 for a network without
        parameters.
    num_classes : int, default=10
        Number of logits of the networks built from ``space``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``. Asking for CUDA where there is none is a ``ValueError``.
        Outputs are NumPy arrays on the CPU whatever the device.
    n_jobs : int, default=None
        Architectures computed in parallel with joblib (``None`` means 1 unless
        in a :func:`joblib.parallel_config` context, which also selects the
        backend, e.g. ``"dask"``). Thread-based workers build and run one network
        at a time, since torch's generator, which draws the weights, is shared by
        the threads of a process: use processes (joblib's default) for speed.
    verbose : int, default=0
        Show a progress bar over architectures when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisations. Initialisation ``i`` of every architecture
        uses the same torch seed (which also covers the forward pass, e.g.
        dropout), so an architecture's features never depend on the other
        architectures transformed with it, their order or chunks. Results are
        bitwise reproducible for the same number of torch threads; changing it
        (or the device) changes the float rounding, by about 1e-6 relative.
        joblib and dask workers usually run one torch thread each.

    Attributes
    ----------
    probe_images_ : ndarray of shape (n_probe, channels, height, width)
        The probe batch, float32.
    feature_shape_ : tuple of int
        ``(n_inits, n_probe, n_components)``: the layout of one output row,
        which is the C-order flattening of that array.
    seed_ : int
        Base seed drawn from ``random_state`` in :meth:`fit`.
    device_ : str
        The resolved torch device.

    See Also
    --------
    EPDJMStore : resumable on-disk computation for whole search spaces.

    Notes
    -----
    Only the input gradient is computed (parameters are frozen) and ``U_k Σ_k``
    comes from the eigendecomposition of the ``n_probe x n_probe`` Gram matrix
    ``J Jᵀ`` in float64, which equals the SVD's without forming the right
    singular vectors.

    References
    ----------
    D. Hesslow and I. Poli, "Contrastive Embeddings for Neural Architectures",
    arXiv:2102.04208, 2021.

    Examples
    --------
    >>> from cenas_sklearn.features import EPDJMTransformer
    >>> epdjm = EPDJMTransformer(n_inits=2, n_probe=8, probe_size=8, n_components=4,
    ...                          random_state=0)
    >>> X = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|",
    ...      "8:16:24:32:40"]
    >>> Xt = epdjm.fit_transform(X)
    >>> Xt.shape, epdjm.feature_shape_
    ((2, 64), (2, 8, 4))
    """

    _parameter_constraints: dict = {
        "space": [None, StrOptions(set(_ALIASES)), HasMethods(["build", "index"])],
        "n_inits": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_probe": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "probe_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "probe_images": [StrOptions({"natural", "gaussian"}), "array-like"],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "flip_signs": ["boolean"],
        "precision": [StrOptions({"float32", "float64"})],
        "append_log_n_parameters": ["boolean"],
        "num_classes": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [str, None],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, space=None, n_inits=4, n_probe=None, probe_size=None,
                 probe_images="natural", n_components=128, normalize=False, flip_signs=True,
                 precision="float32", append_log_n_parameters=False, num_classes=10,
                 device="auto", n_jobs=None, verbose=0, random_state=None):
        self.space = space
        self.n_inits = n_inits
        self.n_probe = n_probe
        self.probe_size = probe_size
        self.probe_images = probe_images
        self.n_components = n_components
        self.normalize = normalize
        self.flip_signs = flip_signs
        self.precision = precision
        self.append_log_n_parameters = append_log_n_parameters
        self.num_classes = num_classes
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Fix the probe batch, the base seed and the device; validate ``X`` if given.

        Parameters
        ----------
        X : iterable of architectures, default=None
            Validated (not computed) when given.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        from .._device import resolve_device

        self.device_ = resolve_device(self.device)
        self.probe_images_ = self._make_probes()
        n_probe, n_pixels = self.probe_images_.shape[0], self.probe_images_[0].size
        if self.n_components > min(n_probe, n_pixels):
            raise ValueError(
                f"n_components={self.n_components} must be <= n_probe={n_probe} "
                f"(and <= the {n_pixels} input values per probe)"
            )
        self.feature_shape_ = (self.n_inits, n_probe, self.n_components)
        self.seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if X is not None:
            self._architectures(X)
        return self

    def _make_probes(self):
        if isinstance(self.probe_images, str):
            maker = {"natural": natural_probe_images, "gaussian": gaussian_probe_images}
            return maker[self.probe_images](
                _DEFAULT_N_PROBE if self.n_probe is None else self.n_probe,
                _DEFAULT_PROBE_SIZE if self.probe_size is None else self.probe_size,
                random_state=0,
            )
        probes = np.asarray(self.probe_images)
        if probes.ndim != 4:
            raise ValueError(
                "probe_images must have shape (n_probe, channels, height, width), "
                f"got an array of shape {probes.shape}"
            )
        if probes.dtype.kind not in "biuf":
            raise TypeError(f"probe_images must be real numbers, got dtype {probes.dtype}")
        if probes.size == 0:
            raise ValueError(f"probe_images is empty (shape {probes.shape})")
        if not np.isfinite(probes).all():
            raise ValueError("probe_images contains NaN or infinity")
        if self.n_probe is not None and self.n_probe != probes.shape[0]:
            raise ValueError(
                f"n_probe={self.n_probe} contradicts probe_images with {probes.shape[0]} images; "
                "leave n_probe=None when passing an array"
            )
        if self.probe_size is not None and (self.probe_size, self.probe_size) != probes.shape[2:]:
            raise ValueError(
                f"probe_size={self.probe_size} contradicts probe_images of "
                f"{probes.shape[2]}x{probes.shape[3]} pixels; leave probe_size=None"
            )
        with np.errstate(over="ignore"):  # overflow is reported just below
            probes = np.ascontiguousarray(probes, dtype=np.float32)
        if not np.isfinite(probes).all():
            raise ValueError("probe_images has values too large for float32 (beyond ~3.4e38)")
        return probes

    # ------------------------------------------------------------------ architectures
    def _architectures(self, X):
        """Resolve ``X`` into ``(key, factory)`` pairs; ``key`` is None for callables."""
        if isinstance(X, str | bytes) or not hasattr(X, "__iter__"):
            raise TypeError(
                "X must be an iterable of architectures (strings, indices or module "
                f"factories), got {type(X).__name__}"
            )
        space = None if self.space is None else get_space(self.space)
        items = []
        for position, arch in enumerate(X):
            if isinstance(arch, np.str_):
                arch = str(arch)
            if isinstance(arch, str):
                sp = space if space is not None else infer_space(arch)
                key = sp.to_string(arch)
            elif isinstance(arch, numbers.Integral) and not isinstance(arch, bool):
                if space is None:
                    raise ValueError(
                        f"architecture {arch!r} at position {position} is an index; "
                        "pass space= (e.g. space='nb201') to read indices"
                    )
                sp, key = space, space.to_string(arch)
            elif _is_module_instance(arch):
                raise TypeError(
                    f"architecture at position {position} is a module instance; pass a callable "
                    "returning a fresh module (e.g. its class or a functools.partial), since "
                    "every initialisation needs fresh random weights"
                )
            elif callable(arch):
                items.append((None, arch))
                continue
            else:
                raise TypeError(
                    f"architecture at position {position} must be a string, an index or a "
                    f"module factory, got {type(arch).__name__}"
                )
            items.append((f"{sp.nats_name}:{key}",
                          partial(sp.build, key, num_classes=self.num_classes)))
        if not items:
            raise ValueError("X contains no architecture")
        return items

    # ------------------------------------------------------------------ transform
    def compute(self, X):
        """EPDJMs with their singular values and parameter counts.

        Parameters
        ----------
        X : iterable of architectures

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            ``epdjm``: ndarray of shape (n_archs, n_inits, n_probe, n_components),
            float32; ``singular_values``: ndarray of shape (n_archs, n_inits,
            min(n_probe, n_pixels)), float32, all singular values of each
            Jacobian, descending and never normalised; ``n_parameters``: ndarray
            of shape (n_archs,), int64; ``zero_jacobian``: ndarray of bool.
        """
        check_is_fitted(self)
        items = self._architectures(X)
        results = list(self._iter_results([f for _, f in items]))
        out = Bunch(
            epdjm=np.stack([r["epdjm"] for r in results]),
            singular_values=np.stack([r["singular_values"] for r in results]),
            n_parameters=np.array([r["n_parameters"] for r in results], dtype=np.int64),
            zero_jacobian=np.array([r["zero"] for r in results], dtype=bool),
        )
        _warn_zero(out.zero_jacobian, [k for k, _ in items])
        return out

    def transform(self, X):
        """EPDJM features, one row per architecture.

        Parameters
        ----------
        X : iterable of architectures

        Returns
        -------
        X_new : ndarray of shape (n_archs, n_inits * n_probe * n_components), float32
            Row ``i`` reshaped to :attr:`feature_shape_` is architecture ``i``'s
            EPDJMs, one ``(n_probe, n_components)`` matrix per initialisation.
            With ``append_log_n_parameters``, one more column: the log parameter count.
        """
        out = self.compute(X)
        return flatten_features(out.epdjm, out.n_parameters if self.append_log_n_parameters
                                else None)

    def _iter_results(self, factories, *, chunk_size=None):
        """Compute factories in order, in parallel chunks, updating the progress bar."""
        import torch

        probes = torch.tensor(self.probe_images_)  # a copy: they may be a read-only memmap
        seeds = [init_seed(self.seed_, i) for i in range(self.n_inits)]
        task = partial(compute_epdjm, probes=probes, seeds=seeds, n_components=self.n_components,
                       normalize=self.normalize, flip_signs=self.flip_signs, device=self.device_,
                       dtype=getattr(torch, self.precision))
        progress = _progress(len(factories), self.verbose)
        chunk = chunk_size or 4 * effective_n_jobs(self.n_jobs)
        try:
            # One pool for all chunks; n_jobs=None follows any joblib.parallel_config context
            # (e.g. backend="dask"), and is sequential in-process otherwise.
            with Parallel(n_jobs=self.n_jobs) as parallel:
                for start in range(0, len(factories), chunk):
                    batch = factories[start:start + chunk]
                    yield from parallel(delayed(task)(f) for f in batch)
                    progress.update(len(batch))
        finally:
            progress.close()

    def get_feature_names_out(self, input_features=None):
        """Names ``epdjm_i{init}_p{probe}_c{component}`` in output order."""
        check_is_fitted(self)
        n_inits, n_probe, k = self.feature_shape_
        names = [f"epdjm_i{i}_p{p}_c{c}" for i in range(n_inits) for p in range(n_probe)
                 for c in range(k)]
        if self.append_log_n_parameters:
            names.append("log_n_parameters")
        return np.array(names, dtype=object)

    def __setstate__(self, state):
        # Fitted on CUDA, loaded on a CPU-only machine: compute on the CPU.
        super().__setstate__(state)
        if hasattr(self, "device_"):
            from .._device import device_after_unpickling

            self.device_ = device_after_unpickling(self.device_, type(self).__name__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def flatten_features(epdjm, n_parameters=None):
    """2-D features from 4-D EPDJMs, with the log parameter counts as a last column if given.

    A network without parameters counts as one (log 0), not as minus infinity.
    """
    flat = epdjm.reshape(epdjm.shape[0], -1)
    if n_parameters is None:
        return flat
    counts = np.maximum(np.asarray(n_parameters, dtype=np.float64), 1.0)
    log_params = np.log(counts).astype(np.float32)
    return np.concatenate([flat, log_params[:, None]], axis=1)


def _is_module_instance(obj) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, torch.nn.Module)


def _progress(total, verbose):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not verbose, unit="arch", desc="EPDJM")


def _warn_zero(zero, keys):
    if zero.any():
        first = next(k for k, z in zip(keys, zero, strict=True) if z)
        warnings.warn(
            f"{int(zero.sum())} of {len(zero)} architectures have an identically zero data "
            f"Jacobian (their logits do not depend on the input, e.g. {first or 'a factory'}); "
            "their features are zeros",
            ZeroJacobianWarning,
            stacklevel=3,
        )
