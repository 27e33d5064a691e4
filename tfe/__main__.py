"""``python -m tfe`` runs the command-line interface."""

from __future__ import annotations

from tfe.app.cli import main

if __name__ == "__main__":
    main()
