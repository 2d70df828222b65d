"""Architecture search over a finite set of candidates, on scikit-optimize's pieces.

- :class:`BayesianArchitectureSearch`: Gaussian-process Bayesian optimisation over the
  candidates' embeddings (scikit-learn front); :class:`CandidateOptimizer`: the same with
  skopt's ``ask``/``tell`` contract.
- Baselines with the same interface: :class:`RandomArchitectureSearch` and
  :class:`RegularizedEvolution` (REA); one-hot GP-BO is :class:`BayesianArchitectureSearch`
  on ``space.onehot(space)``.
- :class:`BenchmarkObjective`: accuracies looked up in a benchmark, as an objective.
- :func:`simulate` replays searches on a tabular benchmark over many seeds
  (:class:`SearchCurves`); :func:`plot_curves` draws them.
"""

from ._baselines import RandomArchitectureSearch, RegularizedEvolution
from ._bayes import BayesianArchitectureSearch
from ._objective import BenchmarkObjective
from ._optimizer import CandidateOptimizer
from ._simulate import SearchCurves, plot_curves, simulate

__all__ = [
    "BayesianArchitectureSearch",
    "BenchmarkObjective",
    "CandidateOptimizer",
    "RandomArchitectureSearch",
    "RegularizedEvolution",
    "SearchCurves",
    "plot_curves",
    "simulate",
]
