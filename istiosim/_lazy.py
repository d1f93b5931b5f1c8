"""PEP 562 lazy attributes for a package: names imported from their modules on first use.

``istiosim``, ``istiosim.analysis``, ``istiosim.testing`` and ``istiosim.config`` keep their
names in a table (name → module) so that importing the package costs nothing until a name is
used (``istiosim --help`` and the pytest plugin stay cheap, and a command imports only the
model families it reads).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy(
    package: str,
    names: Mapping[str, str],
    submodules: Iterable[str] = (),
    *,
    public: bool = False,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name of ``names`` is imported from its
    module on first use and kept in the package (the next use is a plain attribute), each of
    ``submodules`` is the subpackage of that name. With ``public``, a value defined in one of
    the package's modules shows the package as its ``__module__`` (``istiosim.Simulator``, not
    its private home), as httpx does for its public names."""
    subs = frozenset(submodules)
    prefix = package + "."

    def __getattr__(name: str) -> Any:
        home = names.get(name)
        if home is not None:
            value = getattr(importlib.import_module(home), name)
            if public and getattr(value, "__module__", "").startswith(prefix):
                value.__module__ = package
            setattr(sys.modules[package], name, value)
            return value
        if name in subs:
            return importlib.import_module(prefix + name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        """``__all__`` and the submodules; without ``__all__``, every public name."""
        module = sys.modules[package]
        listed = getattr(module, "__all__", None)
        if listed is None:
            listed = [*names, *(n for n in vars(module) if not n.startswith("_"))]
        return sorted({*listed, *subs})

    return __getattr__, __dir__
