"""``python -m istiosim.cli``, as ``python -m istiosim``."""

from . import main

raise SystemExit(main())
