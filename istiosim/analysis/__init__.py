"""Analysis of a loaded configuration: the analyzers that ``istiosim check`` runs (validation,
diff and rollout analysis). Route coverage by test cases lives in :mod:`istiosim.testing`."""

from __future__ import annotations

__all__: list[str] = []
