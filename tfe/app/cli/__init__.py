"""The ``tfe`` command line (also ``python -m tfe``): a composition root, like ``tfe.app.web``.

Errors the user can fix end as one line on stderr and a non-zero exit code, never a traceback.
``--json`` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import sys

import typer

from tfe.app.cli import (
    admin,
    alerts,
    audit,
    content,
    demo,
    demo_activity,
    digests,
    documents,
    erase,
    evaluation,
    index,
    indicators,
    keys,
    oidc,
    sources,
    taxonomy_reclassify,
    taxonomy_train,
    watch,
)
from tfe.app.cli.common import fail
from tfe.core.errors import TfeError

app = typer.Typer(
    name="tfe",
    help="Team France Export: GED et veille — ingestion, classification, recherche.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("init")(admin.init)
app.command("serve")(demo.serve)
app.command("demo")(demo.demo)
app.command("demo-activity")(demo_activity.demo_activity)
app.command("ingest")(content.ingest)
app.command("search")(content.search)
app.command("backfill")(content.backfill)
app.command("poll")(watch.poll)
app.command("worker")(watch.worker)
app.command("reindex")(index.reindex)
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.org_app, name="org")
app.add_typer(admin.token_app, name="token")
admin.taxonomy_app.command("reclassify")(taxonomy_reclassify.reclassify_command)
app.add_typer(admin.taxonomy_app, name="taxonomy")
admin.taxonomy_app.command("train")(taxonomy_train.train)
app.add_typer(evaluation.eval_app, name="eval")
app.add_typer(sources.source_app, name="source")
app.add_typer(digests.digest_app, name="digest")
app.add_typer(alerts.subscription_app, name="subscription")
app.add_typer(documents.document_app, name="document")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(erase.erase_app, name="erase")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(oidc.oidc_app, name="oidc")
app.add_typer(indicators.indicators_app, name="indicators")


def main() -> None:
    try:
        app()
    except TfeError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        print("tfe: interrupted (re-run the same command to resume)", file=sys.stderr)
        sys.exit(130)
