"""``tfe digest run``: send the alert digests that are due (instant, daily, weekly), as the worker does."""

from __future__ import annotations

from typing import Annotated

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, runtime

digest_app = typer.Typer(help="Synthèses d'alertes : envoi de ce qui est dû.", no_args_is_help=True)

FrequencyOpt = Annotated[
    str | None,
    typer.Option("--frequency", help="Seulement les alertes de cette fréquence : instant, daily ou weekly."),
]
NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now", help="Faire comme s'il était cette heure (ISO 8601, ex. 2025-03-03T08:00:00+01:00)."
    ),
]


@digest_app.command("run")
def run(frequency: FrequencyOpt = None, now: NowOpt = None, as_json: JsonOpt = False) -> None:
    """Envoie les synthèses dues : alertes immédiates, puis quotidiennes et hebdomadaires à leur heure.

    Une synthèse vide n'est pas envoyée ; une actualité déjà envoyée à un abonné ne l'est jamais deux fois.
    """
    from veille.alerts.digests import parse_now

    when = parse_now(now)
    rt = runtime()
    try:
        report = rt.digests.run(frequency, now=when)
    finally:
        rt.close()
    if as_json:
        emit_json(report.as_dict())
        return
    if not report.subscriptions:
        echo("Aucune alerte due pour l'instant.")
        return
    echo(
        f"{report.subscriptions} alerte(s) due(s) : {report.sent} synthèse(s) envoyée(s), "
        f"{report.stories} actualité(s) ou document(s), {report.skipped_empty} sans nouveauté, "
        f"{report.failed} en échec ou en attente de nouvel essai"
    )
