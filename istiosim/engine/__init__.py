"""The two engines over one RoutePlan: ``route`` (scalar, traced) and ``route_batch`` (vector)."""

from .scalar import route
from .vector import route_batch

__all__ = ["route", "route_batch"]
