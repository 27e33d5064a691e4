"""The PKCS#11 provider against a real SoftHSM2 token (Debian ``softhsm2``): KEKs on the token, wrap and
unwrap by the token, rotation, retirement, bad PIN or token, and a whole vault on it (SQLite, PostgreSQL).

SoftHSM2 reads ``SOFTHSM2_CONF`` once per process, so the module makes one token directory and one token;
tests tell their keys apart by label.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from ged.blobs import BlobStore
from tests.conftest import make_settings
from tfe.core.crypto.columns import sealer_of
from tfe.core.crypto.envelope import new_key
from tfe.core.crypto.pkcs11 import Pkcs11KeyProvider
from tfe.core.crypto.providers import UnknownKekError
from tfe.core.crypto.vault import Vault
from tfe.core.db import make_engine, migrate
from tfe.core.errors import ConfigurationError, TamperedContentError
from tfe.core.settings import Settings

LIBRARY = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN = "tfe-tests"
PIN = "4711-user-pin"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "so-pin-42"],
        check=True,
        capture_output=True,
    )
    yield TOKEN
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def label() -> str:
    return f"kek-{uuid.uuid4().hex[:8]}"


def test_wrap_rotate_retire_on_the_token(token: str) -> None:
    name = label()
    provider = Pkcs11KeyProvider(LIBRARY, token, PIN, name)
    assert provider.kind == "pkcs11" and provider.kek_ids() == [f"{name}-v1"]
    from pkcs11 import Attribute

    kek = provider._keys[f"{name}-v1"]  # the KEK never leaves the token
    assert kek[Attribute.SENSITIVE] and not kek[Attribute.EXTRACTABLE]
    dek = new_key()
    v1, wrapped = provider.wrap(dek)
    assert v1 == f"{name}-v1" and dek not in wrapped and provider.unwrap(v1, wrapped) == dek
    other = Pkcs11KeyProvider(LIBRARY, token, PIN, name)  # another process: finds the same KEK
    assert other.current_kek_id == v1 and other.unwrap(v1, wrapped) == dek
    v2 = other.rotate()
    assert v2 == f"{name}-v2" and other.kek_ids() == [v1, v2]
    v2_id, rewrapped = provider.wrap(dek)  # the first instance follows the rotation made by the other
    assert v2_id == v2 and provider.unwrap(v2, rewrapped) == dek == provider.unwrap(v1, wrapped)
    other.retire(v1)
    with pytest.raises(UnknownKekError):
        provider.unwrap(v1, wrapped)
    assert provider.unwrap(v2, rewrapped) == dek
    with pytest.raises(TamperedContentError):
        provider.unwrap(v2, bytes([rewrapped[0] ^ 1]) + rewrapped[1:])
    with pytest.raises(ValueError):
        provider.retire(v2)
    provider.destroy_all()
    assert Pkcs11KeyProvider(LIBRARY, token, PIN, name).kek_ids() == [f"{name}-v1"]  # a fresh one, new key


def test_bad_pin_token_or_settings_are_one_clear_error(token: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Pkcs11KeyProvider(LIBRARY, token, "wrong-pin", label())
    assert "cannot log in" in caught.value.message and "wrong-pin" not in caught.value.message
    with pytest.raises(ConfigurationError, match="no PKCS#11 token labelled 'absent'"):
        Pkcs11KeyProvider(LIBRARY, "absent", PIN, label())
    with pytest.raises(ConfigurationError, match="TFE_PKCS11_LIBRARY"):
        Pkcs11KeyProvider(tmp_path / "nope.so", token, PIN, label())
    with pytest.raises(ConfigurationError, match="needs TFE_PKCS11_TOKEN_LABEL and TFE_PKCS11_PIN"):
        make_engine(make_settings(tmp_path, key_provider="pkcs11"))


def test_a_vault_on_the_token(token: str, db_settings: Settings) -> None:
    settings = db_settings.model_copy(
        update={
            "key_provider": "pkcs11",
            "pkcs11_token_label": token,
            "pkcs11_pin": SecretStr(PIN),
            "pkcs11_key_label": label(),
        }
    )
    engine = make_engine(settings)
    migrate(engine)
    vault = sealer_of(engine.dialect)
    assert isinstance(vault, Vault) and vault.provider_kind == "pkcs11"
    assert not (settings.keys_dir / "master.key").exists()  # no key file at all
    store = BlobStore(settings.blob_dir, vault)
    key = store.put(b"reference client confidentielle", owner="hsm-doc")
    column = vault.seal_text("titre")
    status = vault.status()
    assert status["provider"] == "pkcs11" and PIN not in str(status) and token in status["location"]
    operator = make_engine(settings)
    report = sealer_of(operator.dialect).rotate(grace_s=0)  # type: ignore[union-attr]
    assert report.new_kek_id.endswith("-v2") and report.rewrapped == 1 and len(report.retired) == 1
    restarted = make_engine(settings)
    reopened = sealer_of(restarted.dialect)
    assert isinstance(reopened, Vault)
    assert BlobStore(settings.blob_dir, reopened).get(key) == b"reference client confidentielle"
    assert reopened.open_text(column) == "titre"
    assert reopened.status()["kek_ids"] == [report.new_kek_id]
    for each in (engine, operator, restarted):
        each.dispose()
