"""What every architecture search shares: the candidate pool, the evaluation loop, failures,
the history, checkpoints and the skopt ``OptimizeResult``."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import uuid
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, check_random_state
from sklearn.utils.parallel import Parallel, delayed
from skopt.space import Categorical, Integer, Space
from skopt.utils import create_result

from .._persistence import VersionedPickleMixin

CHECKPOINT_FORMAT = "cenas_sklearn.search.checkpoint"
CHECKPOINT_VERSION = 2  # 2: with the history's SHA-256


# ---------------------------------------------------------------------- candidates
class CandidatePool:
    """The candidates that may still be proposed: not evaluated, and (with ``groups``) not in
    the isomorphism class of an evaluated candidate."""

    def __init__(self, n_candidates, groups=None):
        self.available = np.ones(n_candidates, dtype=bool)
        self.groups = groups

    def __len__(self):
        return int(self.available.sum())

    def remove(self, index):
        self.available[index] = False
        if self.groups is not None:
            self.available[self.groups == self.groups[index]] = False

    def draw(self, rng):
        """One available candidate, uniformly at random."""
        return int(rng.choice(np.flatnonzero(self.available)))

    def copy(self):
        pool = CandidatePool(0, self.groups)
        pool.available = self.available.copy()
        return pool


def check_groups(groups, n_candidates):
    """Integer codes of the group labels, or None."""
    if groups is None:
        return None
    labels = np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n_candidates:
        raise ValueError(f"groups must hold one label per candidate: expected shape "
                         f"({n_candidates},), got {labels.shape}")
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def as_index(x, n_candidates):
    """A candidate index from an int, a numpy integer or skopt's one-element point ``[i]``."""
    if isinstance(x, list | tuple | np.ndarray) and np.size(x) == 1:
        x = np.ravel(x)[0]
    if isinstance(x, bool | np.bool_) or not isinstance(x, numbers.Integral):
        raise TypeError(f"a candidate is given by its integer index, got {x!r}")
    if not 0 <= x < n_candidates:
        raise IndexError(f"candidate index {x} is out of range (0..{n_candidates - 1})")
    return int(x)


def candidate_space(n_candidates):
    """The skopt space of the candidate indices: one integer dimension."""
    if n_candidates == 1:
        return Space([Categorical([0], name="candidate")])
    return Space([Integer(0, n_candidates - 1, name="candidate")])


def fingerprint(X):
    """SHA-256 of the candidates, to recognise a checkpoint of the same search."""
    digest = hashlib.sha256()
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        digest.update(f"{X.dtype.str}{X.shape}".encode())
        digest.update(np.ascontiguousarray(X).tobytes())
    else:
        digest.update("\n".join(map(str, X)).encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------- objectives
class _ValueLookup:
    """An objective given as an array of values, one per candidate."""

    def __init__(self, values):
        self.values = values

    def __call__(self, index):
        return self.values[index]


def as_objective(y, n_candidates, name):
    """A callable ``index -> value`` from a callable or an array of values."""
    if y is None:
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None: y is the objective, "
            "a callable taking a candidate index and returning a float, or an array of one "
            "value per candidate"
        )
    if callable(y):
        return y
    values = check_array(y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan",
                         input_name="y")
    if values.ndim != 1 or values.shape[0] != n_candidates:
        raise ValueError(f"y should be a 1d array of one objective value per candidate: "
                         f"expected shape ({n_candidates},), got {values.shape}")
    return _ValueLookup(values)


def evaluate(objective, index):
    """``(value, None)``, or ``(nan, error message)`` if the objective fails."""
    try:
        value = objective(index)
    except Exception as exc:  # a failed evaluation is recorded, not fatal
        return float("nan"), f"{type(exc).__name__}: {exc}"
    if np.ndim(value) != 0:
        return float("nan"), f"returned an array of shape {np.shape(value)}, not a scalar"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return float("nan"), f"returned {type(value).__name__} {value!r}, not a number"
    if not np.isfinite(value):
        return float("nan"), f"returned {value}"
    return value, None


# ---------------------------------------------------------------------- the estimator base
class BaseArchitectureSearch(VersionedPickleMixin, BaseEstimator):
    """The search loop shared by the public search estimators.

    Subclasses define ``_check_candidates(X) -> (candidates, n_candidates)`` and
    ``_make_proposer(candidates, groups, rng)``; a proposer has skopt's
    ``ask(n_points=None)`` / ``tell(x, y)`` over candidate indices, with a NaN ``y`` for a
    failed evaluation, and ``n_available``.
    """

    _batch_size = 1

    def _search(self, X, y, groups):
        candidates, n_candidates = self._check_candidates(X)
        name = type(self).__name__
        objective = as_objective(y, n_candidates, name)
        groups = check_groups(groups, n_candidates)
        rng = check_random_state(self.random_state)
        proposer = self._make_proposer(candidates, groups, rng)
        digest = fingerprint(candidates)
        replay = self._read_checkpoint(digest, n_candidates)
        if len(replay) > self.n_iter:
            # Resuming would rewrite the file with the first n_iter evaluations only.
            raise ValueError(
                f"the checkpoint {self.checkpoint} holds {len(replay)} evaluations, more than "
                f"n_iter={self.n_iter}; resume with n_iter >= {len(replay)} (recorded "
                "evaluations are replayed, not recomputed) or choose another file")

        indices, values, errors = [], [], []
        sign = -1.0 if self.maximize else 1.0
        while True:
            k = min(self._batch_size, self.n_iter - len(indices), proposer.n_available)
            if k <= 0:
                break
            xs = [proposer.ask()] if k == 1 else list(proposer.ask(k))
            results = self._evaluate_batch(objective, xs, replay, len(indices))
            for x, (value, error) in zip(xs, results, strict=True):
                indices.append(int(x))
                values.append(value)
                errors.append(error)
                if self.verbose:
                    self._report(len(indices), x, value, error, values)
            proposer.tell(xs[0] if k == 1 else xs,
                          results[0][0] if k == 1 else [v for v, _ in results])
            if self.checkpoint is not None:
                self._write_checkpoint(digest, n_candidates, indices, values, errors)

        values_arr = np.array(values, dtype=np.float64)
        self.history_ = {
            "index": np.array(indices, dtype=np.int64),
            "value": values_arr,
            "error": errors,
            **self._history_extras(proposer, indices),
        }
        self.n_iter_ = len(indices)
        failed = [i for i, e in enumerate(errors) if e is not None]
        if len(failed) == len(indices):
            first = f"; the first: candidate {indices[0]}: {errors[0]}" if indices else ""
            raise RuntimeError(f"{name}: all {len(indices)} evaluations failed (see "
                               f"history_){first}")
        if failed:
            warnings.warn(
                f"{name}: {len(failed)} of {len(indices)} evaluations failed and were skipped "
                f"(history_['error']); the first: candidate {indices[failed[0]]}: "
                f"{errors[failed[0]]}", UserWarning, stacklevel=3)
        ok = ~np.isnan(values_arr)
        best = int(np.flatnonzero(ok)[np.argmin(sign * values_arr[ok])])
        self.best_index_ = indices[best]
        self.best_score_ = float(values_arr[best])
        result = create_result([[i] for i in np.asarray(indices)[ok].tolist()],
                               sign * values_arr[ok], candidate_space(n_candidates), rng,
                               models=list(getattr(proposer, "models", [])))
        result.specs = {"args": self.get_params(deep=False), "function": f"{name}.fit"}
        self.result_ = result
        return self

    def _history_extras(self, proposer, indices):
        return {}

    # ------------------------------------------------------------------ evaluation
    def _evaluate_batch(self, objective, xs, replay, start):
        results = [None] * len(xs)
        todo = []
        for j, x in enumerate(xs):
            position = start + j
            if position < len(replay):
                index, value, error = replay[position]
                if index != x:
                    raise ValueError(
                        f"the checkpoint {self.checkpoint} does not match this search: its "
                        f"evaluation {position} is candidate {index}, this search proposes {x} "
                        "(another random_state or other parameters?); remove the file to "
                        "start afresh")
                results[j] = (float("nan") if value is None else float(value), error)
            else:
                todo.append(j)
        if len(todo) > 1:
            done = Parallel(n_jobs=getattr(self, "n_jobs", None), prefer="threads")(
                delayed(evaluate)(objective, int(xs[j])) for j in todo)
        else:
            done = [evaluate(objective, int(xs[j])) for j in todo]
        for j, result in zip(todo, done, strict=True):
            results[j] = result
        return results

    def _report(self, count, x, value, error, values):
        ok = np.array(values, dtype=np.float64)
        ok = ok[~np.isnan(ok)]
        best = (ok.max() if self.maximize else ok.min()) if ok.size else float("nan")
        what = f"failed ({error})" if error is not None else f"{value:.6g}"
        print(f"[{type(self).__name__}] {count}/{self.n_iter} candidate {x}: {what}; "
              f"best {best:.6g}", flush=True)

    # ------------------------------------------------------------------ checkpoints
    def _read_checkpoint(self, digest, n_candidates):
        """The recorded evaluations ``[(index, value or None, error)]`` to replay, or []."""
        if self.checkpoint is None:
            return []
        path = Path(self.checkpoint)
        if not path.exists():
            return []
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the checkpoint {path}: {exc}; it is truncated or "
                             "is not a checkpoint") from exc
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a search checkpoint (no format "
                             f"{CHECKPOINT_FORMAT!r}); remove it or choose another file")
        version = payload.get("version")
        if version not in (1, CHECKPOINT_VERSION):
            raise ValueError(
                f"the checkpoint {path} has format version {version!r}; this cenas_sklearn "
                f"reads versions 1 and {CHECKPOINT_VERSION}; resume it with the version that "
                "wrote it")
        expected = {"estimator": type(self).__name__, "n_candidates": n_candidates,
                    "candidates_sha256": digest, "maximize": bool(self.maximize)}
        for key, value in expected.items():
            if payload.get(key) != value:
                raise ValueError(
                    f"the checkpoint {path} was not written by this search: its {key} is "
                    f"{payload.get(key)!r}, expected {value!r}; remove the file to start afresh")
        return _check_history(payload, path, n_candidates)

    def _write_checkpoint(self, digest, n_candidates, indices, values, errors):
        history = {
            "index": [int(i) for i in indices],
            "value": [None if np.isnan(v) else float(v) for v in values],
            "error": list(errors),
        }
        payload = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "estimator": type(self).__name__,
            "n_candidates": n_candidates,
            "candidates_sha256": digest,
            "maximize": bool(self.maximize),
            "history": history,
            "history_sha256": _history_digest(history),
        }
        write_json_atomic(self.checkpoint, payload)


def _history_digest(history):
    text = json.dumps(history, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_history(payload, path, n_candidates):
    """The checkpoint's evaluations, checked against their checksum and for consistency."""
    def corrupted(what):
        return ValueError(f"the checkpoint {path} is corrupted: {what}; restore it, or remove "
                          "it to start afresh (its evaluations are then lost)")

    history = payload.get("history")
    if not isinstance(history, dict) or \
            not all(isinstance(history.get(k), list) for k in ("index", "value", "error")):
        raise corrupted('no "history" with "index", "value" and "error" lists')
    if payload["version"] >= 2:
        try:
            digest = _history_digest(history)
        except ValueError as exc:  # NaN or infinity, which JSON does not hold
            raise corrupted(str(exc)) from None
        if payload.get("history_sha256") != digest:
            raise corrupted("its history does not match its checksum (history_sha256)")
    lengths = {k: len(history[k]) for k in ("index", "value", "error")}
    if len(set(lengths.values())) != 1:
        raise corrupted(f"its history lists have different lengths {lengths}")
    records = list(zip(history["index"], history["value"], history["error"], strict=True))
    for position, (index, value, error) in enumerate(records):
        if isinstance(index, bool) or not isinstance(index, int) or \
                not 0 <= index < n_candidates:
            raise corrupted(f"evaluation {position} is of candidate {index!r}, not an index "
                            f"in 0..{n_candidates - 1}")
        success = error is None and _is_finite_number(value)
        failure = value is None and isinstance(error, str)
        if not (success or failure):
            raise corrupted(f"evaluation {position} has value {value!r} and error {error!r} "
                            "(expected a finite number and null, or null and a message)")
    return records


def _is_finite_number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond float's range
        return False


def write_json_atomic(path, payload):
    """Write JSON to a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(payload, f, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
