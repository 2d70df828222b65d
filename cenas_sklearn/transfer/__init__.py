"""Transfer across search spaces: one embedding for all, a regressor on the labelled ones."""

from ._regressor import TransferRegressor

__all__ = ["TransferRegressor"]
