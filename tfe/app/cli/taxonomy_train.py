"""``tfe taxonomy train``: retrain the learned classifier of a scheme from the curators' decisions."""

from __future__ import annotations

from typing import Annotated

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime

__all__ = ["train"]


def train(
    scheme: Annotated[str, typer.Option(help="Schéma à entraîner (naf)")] = "naf",
    as_json: JsonOpt = False,
) -> None:
    """Réentraîne le classifieur sur les décisions des curateurs, les documents validés et les exemples
    tirés de la nomenclature ; sans décision, le classement zéro-shot s'applique."""
    from taxonomy.referential import SCHEMES
    from tfe.app.jobs.train_classifier import retrain

    if scheme not in SCHEMES:
        fail(f"schéma inconnu : {scheme} (connus : {', '.join(SCHEMES)})")
    if scheme != "naf":
        fail(f"le schéma {scheme} n'a pas encore de classifieur appris (seul naf en a un)")
    rt = runtime()
    try:
        report = retrain(rt, scheme)
    except ValueError as e:
        fail(f"entraînement impossible : {e}")
    if as_json:
        emit_json(report)
        return
    if not report["trained"]:
        echo(f"{scheme} : aucune décision de curateur ni document validé, classement zéro-shot conservé")
        return
    seeds = report["examples"] - report["decisions"]
    echo(f"{scheme} : modèle entraîné sur {report['decisions']} décisions ({report['curator']} de curateurs, "
         f"{report['validated']} de documents validés) et {seeds} exemples de la nomenclature, "
         f"{report['classes']} classes, en {report['seconds']} s")
    echo(f"fichier : {report['path']}")
