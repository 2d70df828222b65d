"""scikit-learn's estimator checks over every public estimator of the package.

Estimators are found by walking the package, so a new estimator is checked without
editing this file. Numeric-input estimators run the full ``parametrize_with_checks``
suite with an explicit table of expected failures and their reasons. Estimators whose
``X`` is a list of architectures (``input_tags.string``; like sklearn's text
vectorisers, which sklearn's suite skips entirely) run the API checks that do not
feed numeric matrices, plus ``check_param_validation``.
"""

import importlib
import inspect
import pkgutil

import pytest
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestRegressor
from sklearn.utils import estimator_checks as ec
from sklearn.utils._tags import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

import cenas_sklearn
from cenas_sklearn.embedding import ContrastiveEmbedder

# Tiny settings so that every check runs in seconds.
_TINY = {
    "EPDJMTransformer": dict(n_inits=2, n_probe=8, probe_size=8, n_components=4,
                             random_state=0),
    # sklearn's checks feed plain 2-D matrices: read each column as one initialisation of a
    # 1x1 EPDJM (or each row as one initialisation, for the stateless spectral features).
    "ContrastiveEmbedder": dict(feature_shape=(-1, 1, 1), hidden_layer_size=8, embedding_dim=4,
                                projection_dim=4, max_iter=2, batch_size=16, random_state=0),
    "SpectralFeatures": dict(feature_shape=(1, 1, -1)),
    "BayesianArchitectureSearch": dict(n_iter=12, n_initial_points=4, random_state=0),
    "TransferRegressor": dict(
        embedder=ContrastiveEmbedder(feature_shape=(-1, 1, 1), hidden_layer_size=8,
                                     embedding_dim=4, projection_dim=4, max_iter=2,
                                     batch_size=16, random_state=0),
        regressor=RandomForestRegressor(n_estimators=10, random_state=0), random_state=0),
}

# {estimator class name: {check name: reason}}
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}

_ARCHITECTURE_INPUT_CHECKS = [
    ec.check_no_attributes_set_in_init,
    ec.check_parameters_default_constructible,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_estimator_cloneable,
    ec.check_estimator_repr,
    ec.check_valid_tag_types,
    ec.check_estimator_tags_renamed,
    ec.check_mixin_order,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_param_validation,
]


def _public_estimators():
    found = {}
    for module in pkgutil.walk_packages(cenas_sklearn.__path__, "cenas_sklearn."):
        if any(part.startswith("_") for part in module.name.split(".")[1:]) or \
                module.name.endswith(("cli", "__main__")):
            continue
        mod = importlib.import_module(module.name)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and \
                    not inspect.isabstract(obj):
                found[name] = obj
    return [cls(**_TINY.get(name, {})) for name, cls in sorted(found.items())]


ESTIMATORS = _public_estimators()


def test_every_public_estimator_is_found():
    assert {type(e).__name__ for e in ESTIMATORS} >= {
        "ContrastiveEmbedder", "EPDJMTransformer", "SpectralFeatures"}


_NUMERIC = [e for e in ESTIMATORS if get_tags(e).input_tags.two_d_array]
_ARCHITECTURES = [e for e in ESTIMATORS if not get_tags(e).input_tags.two_d_array]


if _NUMERIC:
    @parametrize_with_checks(
        _NUMERIC,
        expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
    )
    def test_sklearn_compatible_estimator(estimator, check):
        check(estimator)


@pytest.mark.parametrize("estimator", _ARCHITECTURES, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", _ARCHITECTURE_INPUT_CHECKS, ids=lambda c: c.__name__)
def test_architecture_input_estimator_api(estimator, check):
    assert get_tags(estimator).input_tags.string
    check(type(estimator).__name__, estimator)
