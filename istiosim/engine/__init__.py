"""The two engines over one RoutePlan: ``route`` (scalar, traced) and ``route_batch`` (vector).

The names are lazy (PEP 562): the simulator imports ``engine.scalar`` and ``engine.draws``, and
a package's ``__init__`` runs before its modules, so importing the vector engine here would make
every ``istiosim route`` pay for it (issue 9, start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy

__all__ = ["route", "route_batch"]

__getattr__, __dir__ = lazy(
    __name__, {"route": "istiosim.engine.scalar", "route_batch": "istiosim.engine.vector"}
)

if TYPE_CHECKING:
    from .scalar import route as route
    from .vector import route_batch as route_batch
