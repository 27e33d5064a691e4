"""``tfe erase --document ID | --organisation ID`` and ``tfe erase verify RECEIPT`` (GDPR erasure)."""

from __future__ import annotations

import typer

erase_app = typer.Typer(help="Effacement (RGPD) et vérification des reçus.", no_args_is_help=True)
