"""``tfe serve`` and ``tfe demo``: the web server, and a ready-to-try installation with demo content."""

from __future__ import annotations

from typing import Annotated

import typer

from tfe.app.cli.common import echo, runtime
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime

HostOpt = Annotated[str | None, typer.Option(help="Interface d'écoute (par défaut TFE_HOST)")]
PortOpt = Annotated[int | None, typer.Option(help="Port (par défaut TFE_PORT)")]


def _serve(rt: Runtime, host: str | None, port: int | None) -> None:
    import uvicorn

    from tfe.app.web.app import create_app

    app = create_app(rt)
    uvicorn.run(app, host=host or rt.settings.host, port=port or rt.settings.port, log_level="info")


def serve(host: HostOpt = None, port: PortOpt = None) -> None:
    """Sert l'interface web et l'API HTTP."""
    rt = runtime()
    _serve(rt, host, port)


def demo(
    host: HostOpt = None,
    port: PortOpt = None,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Démarre le serveur à la fin")
    ] = True,
) -> None:
    """Initialise, charge le corpus et les flux de démonstration, puis sert http://127.0.0.1:8000."""
    from tfe.app.demo.loader import load_demo

    rt = runtime(require_init=False)
    report = init_installation(rt)
    echo(f"Données : {report.data_dir}")
    result = load_demo(rt, progress=True, admin_password=report.admin_password)
    echo(
        f"Corpus de démonstration : {result['documents']['ok']} ajoutés, "
        f"{result['documents']['duplicate']} déjà présents, {result['documents']['failed']} en échec"
    )
    echo(
        f"Flux de veille : {result['feeds']['ok']} articles ajoutés, "
        f"{result['feeds']['duplicate']} déjà présents"
    )
    url = f"http://{host or rt.settings.host}:{port or rt.settings.port}"
    echo("")
    echo(f"Ouvrez {url}/login et connectez-vous :")
    if result["admin"]:
        echo(f"  administrateur : {result['admin']['email']} / {result['admin']['password']}")
    else:
        echo(f"  administrateur : {report.admin_email} (mot de passe de TFE_ADMIN_PASSWORD)")
    for account in result["accounts"]:
        echo(f"  {account['org']} : {account['email']} / {account['password']}")
    echo(f"API : curl -H 'Authorization: Bearer {result['token']}' '{url}/api/search?q=vins+Allemagne'")
    if serve_after:
        _serve(rt, host, port)
