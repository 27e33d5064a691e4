"""tfe: the Team France Export knowledge platform (GED + Veille).

The ``tfe`` package is the kernel (settings, database, errors, security) and the shell (``tfe.app.web``,
``tfe.app.cli``). See ``../shared/DESIGN.md`` for the layering.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
