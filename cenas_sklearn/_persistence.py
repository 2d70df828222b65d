"""Version records in pickles: a fitted estimator loads only into a compatible cenas_sklearn.

Every public estimator inherits :class:`VersionedPickleMixin` (first, before the sklearn
mixins and ``BaseEstimator``). Its pickle records the ``cenas_sklearn`` version that wrote
it; loading it with a different ``major.minor`` version, or loading a pickle without that
record, raises :class:`IncompatibleVersionError` naming both versions. Within one
``major.minor`` (``0.1.0.dev0`` and ``0.1.3``, say) pickles load both ways.

The check is the first thing unpickled, before the estimator's class and its state (skorch
nets, torch weights, GPs) are looked up, so that a version that moved or changed them fails
with this message rather than with an ``AttributeError`` deep inside pickle.
"""

from __future__ import annotations

import re

from ._version import __version__

#: Key of the version record in an estimator's pickled state.
VERSION_KEY = "_cenas_sklearn_version"


class IncompatibleVersionError(ValueError):
    """A pickled estimator was written by an incompatible version of cenas_sklearn.

    Raised when unpickling (``pickle.load``, ``joblib.load``) an estimator pickled by a
    cenas_sklearn of another ``major.minor`` version (older or newer), or a pickle that
    records no version. Refit the estimator with the installed version, or install the
    version named in the message to load it.

    Attributes
    ----------
    estimator_name : str
        Class of the pickled estimator.
    pickled_version : str or None
        The cenas_sklearn version that pickled it (None if not recorded).
    installed_version : str
        The cenas_sklearn version trying to load it.
    """

    def __init__(self, estimator_name, pickled_version, installed_version):
        self.estimator_name = estimator_name
        self.pickled_version = pickled_version
        self.installed_version = installed_version
        if pickled_version is None:
            origin = ("it records no cenas_sklearn version (written before versions were "
                      "recorded, or not by cenas_sklearn)")
            fix = "Refit the estimator."
        else:
            origin = f"it was pickled by cenas_sklearn {pickled_version}"
            fix = (f"Refit the estimator with this version, or load it with cenas_sklearn "
                   f"{_series(pickled_version)}.")
        super().__init__(
            f"cannot load this {estimator_name}: {origin}, and cenas_sklearn "
            f"{installed_version} loads pickles of {_series(installed_version)} only. {fix}")

    def __reduce__(self):  # re-raised from a joblib worker
        return type(self), (self.estimator_name, self.pickled_version, self.installed_version)


def _series(version):
    """``"0.1.x"`` for ``"0.1.0.dev0"``: the versions whose pickles are compatible."""
    major_minor = _major_minor(version)
    return f"{major_minor[0]}.{major_minor[1]}.x" if major_minor else repr(version)


def _major_minor(version):
    match = re.match(r"(\d+)\.(\d+)(?:\D|$)", version) if isinstance(version, str) else None
    return (int(match[1]), int(match[2])) if match else None


def check_pickled_version(estimator_name, pickled_version):
    """Raise :class:`IncompatibleVersionError` unless ``pickled_version`` loads here."""
    if pickled_version is None or _major_minor(pickled_version) is None \
            or _major_minor(pickled_version) != _major_minor(__version__):
        raise IncompatibleVersionError(estimator_name, pickled_version, __version__)


class _VersionCheck:
    """Unpickles as a call of :func:`check_pickled_version`, before anything else."""

    def __init__(self, estimator_name):
        self.estimator_name = estimator_name

    def __reduce__(self):
        return check_pickled_version, (self.estimator_name, __version__)


def _rebuild(_check, cls):
    """The empty instance that pickle then fills through ``__setstate__``."""
    return cls.__new__(cls)


class VersionedPickleMixin:
    """Record the cenas_sklearn version in pickles; refuse to load an incompatible one.

    Put it first among the bases (``class Est(VersionedPickleMixin, TransformerMixin,
    BaseEstimator)``), so that its ``__getstate__`` and ``__setstate__`` wrap
    scikit-learn's through ``super()``. A subclass overriding ``__setstate__`` calls
    ``super().__setstate__(state)`` first.
    """

    def __reduce_ex__(self, protocol):
        # The check object is unpickled (and run) before the class and the state.
        return _rebuild, (_VersionCheck(type(self).__name__), type(self)), self.__getstate__()

    def __getstate__(self):
        try:
            state = super().__getstate__()
        except AttributeError:  # pragma: no cover - Python < 3.11
            state = self.__dict__.copy()
        if state is None:  # an instance without attributes, Python 3.11+
            state = {}
        return {**state, VERSION_KEY: __version__}

    def __setstate__(self, state):
        state = dict(state)
        check_pickled_version(type(self).__name__, state.pop(VERSION_KEY, None))
        parent = getattr(super(), "__setstate__", None)
        if parent is None:  # a plain class (CandidateOptimizer): object has none
            self.__dict__.update(state)
        else:  # scikit-learn's, which warns about its own version for sklearn classes
            parent(state)
