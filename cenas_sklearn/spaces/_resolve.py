"""Look up a search space by name, or recognise the space an architecture string belongs to."""

from __future__ import annotations

from functools import cache

from ._base import SearchSpace
from ._nb201 import NB201Space
from ._size import NATSSizeSpace

_ALIASES = {
    "nb201": NB201Space,
    "nas-bench-201": NB201Space,
    "tss": NB201Space,
    "topology": NB201Space,
    "sss": NATSSizeSpace,
    "nats-sss": NATSSizeSpace,
    "size": NATSSizeSpace,
}


def get_space(space) -> SearchSpace:
    """Return a :class:`SearchSpace` given an instance or a name.

    A name gives the space with its default network settings (one shared instance).

    Names (case-insensitive): ``"nb201"``, ``"nas-bench-201"``, ``"tss"``,
    ``"topology"`` for :class:`NB201Space`; ``"sss"``, ``"nats-sss"``,
    ``"size"`` for :class:`NATSSizeSpace`.
    """
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, str):
        try:
            return _default(_ALIASES[space.lower()])
        except KeyError:
            raise ValueError(
                f"unknown search space {space!r}; expected one of {', '.join(sorted(_ALIASES))}"
            ) from None
    raise TypeError(f"space must be a SearchSpace or a name, got {type(space).__name__}")


def infer_space(arch: str) -> SearchSpace:
    """The space an architecture string is written in: ``|op~i|...`` is NB201, ``c:c:c:c:c`` sss.

    Only the notation is recognised here; the string is validated by the space.
    """
    if not isinstance(arch, str):
        raise TypeError(f"expected an architecture string, got {type(arch).__name__}")
    if "|" in arch or "~" in arch:
        return _default(NB201Space)
    if ":" in arch:
        return _default(NATSSizeSpace)
    raise ValueError(
        f"cannot tell the search space of {arch!r}: NB201 cells read '|op~0|+|op~0|op~1|+...', "
        "size-space architectures 'c0:c1:c2:c3:c4'"
    )


@cache
def _default(cls) -> SearchSpace:
    # One shared default instance per class, so that its lookup tables are built once.
    return cls()
