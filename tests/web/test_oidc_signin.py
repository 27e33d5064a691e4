"""OIDC sign-in against a real OpenID provider (the npm ``oidc-provider``, started once for the module).

The browser is two clients: the app's TestClient (``http://testserver``, the public URL the provider
redirects back to) and an httpx client on the provider's own pages. Nothing is mocked: discovery, PKCE,
the code exchange, the JWKS, userinfo and RP-initiated logout are the provider's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from tests.web.oidc_fixture import CLIENT_SECRET, LocalProvider, free_port, silent_server, start_provider
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.app.web.oidc_logout import end_session_redirect
from tfe.app.web.session import COOKIE_NAME, SessionSigner
from tfe.core.errors import ConfigurationError
from tfe.core.models import AuditEvent, Organisation, User
from tfe.core.security import identity, provisioning
from tfe.core.security.models import SignupRequest, UserIdentity, UserSession
from tfe.core.security.oidc import OidcClient, OidcTokenError, SignInResult
from tfe.core.settings import Settings

PUBLIC_URL = "http://testserver"
PASSWORD = "motdepasse-solide-42"
ADMIN_PASSWORD = "admin-password-123"
SIRET_ALPHA = "13002526500013"


@dataclass
class App:
    rt: Runtime
    client: TestClient
    provider: LocalProvider

    def oidc(self) -> OidcClient:
        return self.client.app.state.oidc.get("test")  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    data_dir = tmp_path_factory.mktemp("oidc")
    with (
        start_provider(PUBLIC_URL) as provider,
        silent_server() as slow_port,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("TFE_TEST_OIDC_SECRET", CLIENT_SECRET)
        providers = [
            provider.provider_entry("test"),
            provider.provider_entry("down", label="Injoignable", issuer=f"http://127.0.0.1:{free_port()}"),
            provider.provider_entry(
                "slow", label="Lent", issuer=f"http://127.0.0.1:{slow_port}", timeout_s=0.5
            ),
        ]
        providers_file = data_dir / "providers.json"
        providers_file.write_text(__import__("json").dumps(providers), encoding="utf-8")
        settings = Settings(
            data_dir=data_dir / "data",
            environment="test",
            admin_password=ADMIN_PASSWORD,
            secret_key="test-secret-key",
            public_url=PUBLIC_URL,
            oidc_providers_file=providers_file,
        )
        rt = Runtime(settings)
        init_installation(rt)
        with rt.session() as session:
            alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
            beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
            identity.create_user(
                session, email="alice@alpha.fr", org=alpha, role="contributor", password=PASSWORD
            )
            identity.create_user(
                session, email="carol@alpha.fr", org=alpha, role="curator", password=PASSWORD
            )
            provisioning.add_mapping(
                session, None, kind="siret", value=SIRET_ALPHA, org_id=alpha.id, channel="cli"
            )
            provisioning.add_mapping(session, None, kind="domain", value="banque-beta.fr", org_id=beta.id)
        with TestClient(create_app(rt)) as client:
            yield App(rt=rt, client=client, provider=provider)
        rt.close()


@pytest.fixture
def web(app: App) -> Iterator[App]:
    app.client.cookies.clear()
    yield app
    app.client.cookies.clear()


def _sign_in(app: App, account: str, *, provider: str = "test", next_url: str = "/") -> httpx.Response:
    start = app.client.get(f"/login/oidc/{provider}", params={"next": next_url}, follow_redirects=False)
    assert start.status_code == 303, start.text[:300]
    with httpx.Client() as browser:
        back = app.provider.sign_in(browser, start.headers["location"], account)
    return app.client.get(back, follow_redirects=False)


def _events(app: App, action: str) -> list[AuditEvent]:
    with app.rt.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        return list(rows)


def _last_failure(app: App) -> dict[str, object]:
    events = _events(app, "auth.oidc_failed")
    assert events, "no auth.oidc_failed event"
    return dict(events[-1].detail)


def _user(app: App, email: str) -> tuple[User, str] | None:
    with app.rt.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            return None
        org = session.get(Organisation, user.org_id)
        assert org is not None
        session.expunge(user)
        return user, org.slug


def test_login_page_offers_a_button_per_provider(web: App) -> None:
    page = web.client.get("/login", params={"next": "/veille/sources"})
    assert page.status_code == 200
    assert "Se connecter avec Fournisseur de test" in page.text
    assert (
        'href="/login/oidc/test?next=/veille/sources"' in page.text
        or "/login/oidc/test?next=%2F" in page.text
    )


def test_authorization_request_uses_pkce_state_and_nonce(web: App) -> None:
    start = web.client.get("/login/oidc/test", follow_redirects=False)
    assert start.status_code == 303
    url = urlsplit(start.headers["location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == web.provider.issuer
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["response_type"] == "code" and query["client_id"] == "tfe-tests"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["redirect_uri"] == f"{PUBLIC_URL}/auth/oidc/test/callback"
    assert "siret" in query["scope"].split()


def test_siret_mapping_provisions_a_reader_in_the_organisation(web: App) -> None:
    answer = _sign_in(web, "marie", next_url="/veille/sources")
    assert answer.status_code == 303 and answer.headers["location"] == "/veille/sources"
    found = _user(web, "marie.dupont@cci-alpha.fr")
    assert found is not None
    user, org = found
    assert (org, user.role, user.auth_source, user.name) == ("alpha", "reader", "oidc:test", "Marie Dupont")
    assert user.password_hash is None
    # signed in, with a reader's scope: reading works, a contributor's page does not
    assert web.client.get("/api/sources").status_code == 200
    assert web.client.get("/deposer", headers={"accept": "text/html"}).status_code == 403
    provisioned = _events(web, "auth.oidc_provisioned")[-1]
    assert provisioned.detail["org"] == "alpha" and provisioned.target_id == str(user.id)
    assert _events(web, "auth.oidc_login")[-1].target_id == str(user.id)
    # the next sign-in finds the same account through its identity
    web.client.cookies.clear()
    assert _sign_in(web, "marie").status_code == 303
    with web.rt.session() as session:
        links = session.scalars(select(UserIdentity).where(UserIdentity.subject == "marie")).all()
        assert [link.user_id for link in links] == [user.id]
        row = session.scalars(select(UserSession).where(UserSession.user_id == user.id)).first()
        assert row is not None and row.auth_method == "oidc:test" and row.id_token


def test_domain_mapping_when_the_siret_is_unknown(web: App) -> None:
    assert _sign_in(web, "paul").status_code == 303
    found = _user(web, "paul.martin@banque-beta.fr")
    assert found is not None and (found[1], found[0].role) == ("beta", "reader")


def test_existing_account_with_a_verified_email_is_linked(web: App) -> None:
    assert _sign_in(web, "alice").status_code == 303
    found = _user(web, "alice@alpha.fr")
    assert found is not None and (found[0].role, found[0].auth_source) == ("contributor", "local")
    assert _events(web, "auth.oidc_linked")[-1].target_id == str(found[0].id)


def test_unverified_email_never_takes_over_an_account(web: App) -> None:
    answer = _sign_in(web, "mallory")
    assert answer.status_code == 403
    assert "ne la déclare pas vérifiée" in answer.text
    assert _last_failure(web)["reason"] == "email_unverified"
    with web.rt.session() as session:
        assert session.scalar(select(UserIdentity).where(UserIdentity.subject == "mallory")) is None
    assert web.client.get("/api/sources").status_code == 401


def _admin_client(app: App) -> TestClient:
    admin = TestClient(app.client.app)
    page = admin.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    signed = admin.post(
        "/login",
        data={"email": "admin@tfe.local", "password": ADMIN_PASSWORD, "csrf": csrf, "next": "/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return admin


def test_unknown_organisation_waits_for_an_admin_then_signs_in(web: App) -> None:
    answer = _sign_in(web, "lea")
    assert answer.status_code == 200
    assert "Votre demande d'accès est en attente de validation" in html.unescape(answer.text)
    assert _user(web, "lea.bernard@inconnue.example") is None
    assert web.client.get("/api/sources").status_code == 401
    assert _sign_in(web, "lea").status_code == 200  # still waiting, one request
    with web.rt.session() as session:
        requests = session.scalars(select(SignupRequest).where(SignupRequest.subject == "lea")).all()
        assert [(r.status, r.siret, r.organisation_hint) for r in requests] == [
            ("pending", "99999999900019", "Cabinet inconnu")
        ]
        request_id = requests[0].id
        alpha_id = session.scalar(select(Organisation.id).where(Organisation.slug == "alpha"))
    assert _events(web, "auth.signup_requested")[-1].target_id == str(request_id)

    admin = _admin_client(web)
    assert 'href="/admin/connexion"' in admin.get("/admin/organisations").text
    page = admin.get("/admin/connexion")
    assert page.status_code == 200 and 'data-request="lea.bernard@inconnue.example"' in page.text
    assert f'data-mapping="siret:{SIRET_ALPHA}"' in page.text
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    refused = admin.post(
        f"/admin/connexion/demandes/{request_id}/approuver", data={"org_id": alpha_id, "role": "reader"}
    )
    assert refused.status_code == 403  # no CSRF token
    approved = admin.post(
        f"/admin/connexion/demandes/{request_id}/approuver",
        data={"csrf": csrf, "org_id": alpha_id, "role": "reader"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert "Demande acceptée" in admin.get("/admin/connexion").text
    assert _events(web, "auth.signup_approved")[-1].target_id == str(request_id)

    web.client.cookies.clear()
    assert _sign_in(web, "lea").status_code == 303
    found = _user(web, "lea.bernard@inconnue.example")
    assert found is not None and (found[1], found[0].role, found[0].auth_source) == (
        "alpha",
        "reader",
        "oidc:test",
    )
    assert web.client.get("/api/sources").status_code == 200


def test_admin_adds_and_removes_a_mapping(web: App) -> None:
    admin = _admin_client(web)
    page = admin.get("/admin/connexion")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    with web.rt.session() as session:
        beta_id = session.scalar(select(Organisation.id).where(Organisation.slug == "beta"))
    bad = admin.post(
        "/admin/connexion/correspondances",
        data={"csrf": csrf, "kind": "siret", "value": "123", "org_id": beta_id},
    )
    assert bad.status_code == 400 and "14 chiffres" in bad.text
    added = admin.post(
        "/admin/connexion/correspondances",
        data={"csrf": csrf, "kind": "domain", "value": "Export-Beta.FR", "org_id": beta_id},
        follow_redirects=False,
    )
    assert added.status_code == 303
    again = admin.post(
        "/admin/connexion/correspondances",
        data={"csrf": csrf, "kind": "domain", "value": "export-beta.fr", "org_id": beta_id},
    )
    assert again.status_code == 409
    event = _events(web, "org_mapping.add")[-1]
    assert event.detail["value"] == "export-beta.fr" and event.detail["org"] == "beta"
    removed = admin.post(f"/admin/connexion/correspondances/{event.target_id}/supprimer", data={"csrf": csrf})
    assert removed.status_code == 200 and 'data-mapping="domain:export-beta.fr"' not in removed.text
    assert _events(web, "org_mapping.remove")[-1].target_id == event.target_id


def test_non_admins_cannot_open_the_signin_administration(web: App) -> None:
    page = web.client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    web.client.post(
        "/login", data={"email": "carol@alpha.fr", "password": PASSWORD, "csrf": csrf, "next": "/"}
    )
    assert web.client.get("/admin/connexion", headers={"accept": "text/html"}).status_code == 403


def test_wrong_state_is_refused(web: App) -> None:
    start = web.client.get("/login/oidc/test", follow_redirects=False)
    with httpx.Client() as browser:
        back = web.provider.sign_in(browser, start.headers["location"], "marie")
    forged = re.sub(r"state=[^&]+", "state=forged-state", back)
    answer = web.client.get(forged, headers={"accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == 400 and "Connexion interrompue" in answer.text
    assert _last_failure(web) == {"provider": "test", "reason": "state_mismatch", "channel": "web"}
    assert web.client.get("/api/sources").status_code == 401


def test_a_replayed_callback_is_refused(web: App) -> None:
    start = web.client.get("/login/oidc/test", follow_redirects=False)
    with httpx.Client() as browser:
        back = web.provider.sign_in(browser, start.headers["location"], "marie")
    assert web.client.get(back, follow_redirects=False).status_code == 303
    replay = web.client.get(back, follow_redirects=False)
    assert replay.status_code == 400
    assert _last_failure(web)["reason"] == "no_pending_sign_in"


def test_an_error_from_the_provider_is_refused(web: App) -> None:
    start = web.client.get("/login/oidc/test", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    query = urlencode({"error": "access_denied", "state": state})
    answer = web.client.get(f"/auth/oidc/test/callback?{query}", follow_redirects=False)
    assert answer.status_code == 401 and "annulée" in answer.text
    assert _last_failure(web)["reason"] == "provider_error:access_denied"


@pytest.mark.parametrize(
    ("name", "status", "reason", "words"),
    [
        ("down", 503, "discovery_unreachable", "ne répond pas"),
        ("slow", 503, "discovery_timeout", "ne répond pas"),
        ("nope", 404, "unknown_provider", "pas configuré"),
    ],
)
def test_a_provider_down_slow_or_unknown_answers_a_french_page(
    web: App, name: str, status: int, reason: str, words: str
) -> None:
    answer = web.client.get(f"/login/oidc/{name}", headers={"accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == status and words in answer.text
    assert '<html lang="fr"' in answer.text
    assert _last_failure(web)["reason"] == reason


def _verified_sign_in(app: App, account: str = "marie") -> SignInResult:
    client = app.oidc()
    redirect_uri = f"{PUBLIC_URL}/auth/oidc/test/callback"
    auth = client.authorization_request(redirect_uri)
    with httpx.Client() as browser:
        back = app.provider.sign_in(browser, auth.url, account)
    code = parse_qs(urlsplit(back).query)["code"][0]
    return client.complete(
        code, redirect_uri=redirect_uri, code_verifier=auth.code_verifier, nonce=auth.nonce
    )


def test_id_token_validation_refuses_forged_expired_and_other_nonce(app: App) -> None:
    client = app.oidc()
    result = _verified_sign_in(app)
    claims = jwt.decode(result.id_token, client._keys()).claims  # the real token, verified
    nonce = str(claims["nonce"])
    assert client.validate_id_token(result.id_token, nonce=nonce)["sub"] == "marie"
    with pytest.raises(OidcTokenError) as other_nonce:
        client.validate_id_token(result.id_token, nonce="another-nonce")
    assert other_nonce.value.reason == "nonce_mismatch"
    with pytest.raises(OidcTokenError) as expired:
        client.validate_id_token(result.id_token, nonce=nonce, now=int(claims["exp"]) + 3600)
    assert expired.value.reason == "id_token_expired"
    # the same claims signed with another key, under the provider's key id
    other_key = RSAKey.generate_key(2048)
    header = {"alg": "RS256", "kid": jwt.decode(result.id_token, client._keys()).header["kid"]}
    forged = jwt.encode(header, claims, other_key)
    with pytest.raises(OidcTokenError) as bad_signature:
        client.validate_id_token(forged, nonce=nonce)
    assert bad_signature.value.reason == "id_token_signature"
    with pytest.raises(OidcTokenError) as unknown_key:
        client.validate_id_token(jwt.encode({"alg": "RS256", "kid": "k2"}, claims, other_key), nonce=nonce)
    assert unknown_key.value.reason == "id_token_signature"
    with pytest.raises(OidcTokenError) as other_audience:
        wrong = {**claims, "aud": "someone-else"}
        client.validate_id_token(jwt.encode(header, wrong, other_key), nonce=nonce)
    assert other_audience.value.reason == "id_token_signature"  # the signature is checked first
    assert result.claims["siret"] == SIRET_ALPHA and result.claims["usual_name"] == "Dupont"  # from userinfo


def test_rp_initiated_logout_goes_to_the_provider(web: App) -> None:
    start = web.client.get("/login/oidc/test", follow_redirects=False)
    with httpx.Client() as browser:
        back = web.provider.sign_in(browser, start.headers["location"], "marie")
        assert web.client.get(back, follow_redirects=False).status_code == 303
        page = web.client.get("/logout")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        out = web.client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
        assert out.status_code == 303
        target = urlsplit(out.headers["location"])
        discovery = httpx.get(f"{web.provider.issuer}/.well-known/openid-configuration").json()
        assert f"{target.scheme}://{target.netloc}{target.path}" == discovery["end_session_endpoint"]
        params = {k: v[0] for k, v in parse_qs(target.query).items()}
        assert params["post_logout_redirect_uri"] == f"{PUBLIC_URL}/login"
        assert params["client_id"] == "tfe-tests" and params["id_token_hint"].count(".") == 2
        # the provider accepts the hint and the redirect: its confirmation form, then back to /login
        confirm = browser.get(out.headers["location"])
        assert confirm.status_code == 200, confirm.text[:300]
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirm.text))
        action = re.search(r'action="([^"]+)"', confirm.text)
        assert action is not None
        done = browser.post(urljoin(web.provider.issuer, action.group(1)), data={**form, "logout": "yes"})
        assert done.status_code in (302, 303) and done.headers["location"].startswith(f"{PUBLIC_URL}/login")
    assert web.client.get("/api/sources").status_code == 401


def test_a_local_session_has_no_provider_logout(web: App) -> None:
    request = type("R", (), {"app": web.client.app})()
    assert end_session_redirect(request, None) is None  # type: ignore[arg-type]
    assert end_session_redirect(request, UserSession(auth_method="password")) is None  # type: ignore[arg-type]
    down = UserSession(auth_method="oidc:down", id_token="x.y.z")
    assert end_session_redirect(request, down) is None  # type: ignore[arg-type]


def test_a_deactivated_user_is_refused(web: App) -> None:
    assert _sign_in(web, "paul").status_code == 303
    with web.rt.session() as session:
        user = session.scalar(select(User).where(User.email == "paul.martin@banque-beta.fr"))
        assert user is not None
        user.active = False
    web.client.cookies.clear()
    answer = _sign_in(web, "paul")
    assert answer.status_code == 403 and "désactivé" in answer.text
    assert _last_failure(web)["reason"] == "deactivated"


def test_secrets_stay_out_of_the_audit_trail(app: App) -> None:
    with app.rt.session() as session:
        texts = [str(e.detail) for e in session.scalars(select(AuditEvent))]
    assert not [t for t in texts if CLIENT_SECRET in t or "eyJ" in t]
    assert Path(app.rt.settings.oidc_providers_file or "").read_text().count(CLIENT_SECRET) == 0


def test_a_bad_providers_file_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "providers.json"
    bad.write_text(
        '[{"name": "x", "label": "X", "issuer": "ftp://x", "client_id": "c", "client_secret": "s"}]'
    )
    settings = Settings(data_dir=tmp_path / "data", environment="test", oidc_providers_file=bad)
    with pytest.raises(ConfigurationError) as caught:
        create_app(Runtime(settings))
    assert "provider 0: issuer" in caught.value.message and "\n" not in caught.value.message


def test_a_changed_nonce_is_refused_at_the_callback(web: App) -> None:
    """The session's nonce altered after the redirect (re-signed with the app's key): the provider's real
    ID token carries the original nonce, so the callback refuses it (401) and audits why."""
    start = web.client.get("/login/oidc/test", follow_redirects=False)
    signer = SessionSigner("test-secret-key", 8 * 3600)
    data = signer.loads(web.client.cookies[COOKIE_NAME])
    data["oidc_flow"]["nonce"] = "a-nonce-the-provider-never-saw"
    cookie = next(c for c in web.client.cookies.jar if c.name == COOKIE_NAME)
    web.client.cookies.set(COOKIE_NAME, signer.dumps(data), domain=cookie.domain, path=cookie.path)
    with httpx.Client() as browser:
        back = web.provider.sign_in(browser, start.headers["location"], "marie")
    answer = web.client.get(back, follow_redirects=False)
    assert answer.status_code == 401 and "Connexion refusée" in answer.text
    assert _last_failure(web)["reason"] == "nonce_mismatch"
    assert web.client.get("/api/sources").status_code == 401
