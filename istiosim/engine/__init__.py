"""The two engines over one RoutePlan: ``route`` (scalar, traced) and ``route_batch`` (vector)."""

from .scalar import route

__all__ = ["route"]
