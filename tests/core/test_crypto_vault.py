"""The vault on SQLite and PostgreSQL: sealed columns, per-owner data keys (created once under
concurrency), crypto-shredding, status, the receipt signer, legacy rows, and revocation seen by every
process."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from search.models import PassageText
from tfe.core.crypto.columns import sealer_of
from tfe.core.crypto.legacy import legacy_rows, seal_legacy_rows
from tfe.core.crypto.models import DataKey
from tfe.core.crypto.signing import verify_signature
from tfe.core.crypto.vault import Vault
from tfe.core.db import Base, make_engine, migrate
from tfe.core.errors import KeyRevokedError, NotFoundError, TamperedContentError
from tfe.core.settings import Settings

MARKER = "Marqueurvault confidentiel : marge 17 % sur le salon de Séoul"


@pytest.fixture
def engine(db_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(db_settings)
    migrate(engine)
    yield engine
    engine.dispose()


def vault_of(engine: Engine) -> Vault:
    vault = sealer_of(engine.dialect)
    assert isinstance(vault, Vault)
    return vault


def test_sealed_columns_are_ciphertext_at_rest(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(PassageText(id="p:0", parent_id="p", title="Titre", text=MARKER, meta={"lang": "fr"}))
        session.commit()
    with engine.connect() as conn:
        raw_title, raw_text = conn.execute(text("SELECT title, text FROM passage_texts")).one()
    assert raw_text.startswith("tfe1:") and "Marqueurvault" not in raw_text and "Titre" not in raw_title
    with Session(engine) as session:
        row = session.get(PassageText, "p:0")
        assert row is not None and row.text == MARKER and row.title == "Titre"
    with engine.begin() as conn:  # one altered character of the stored value
        tampered = raw_text[:-6] + ("A" if raw_text[-6] != "A" else "B") + raw_text[-5:]
        conn.execute(text("UPDATE passage_texts SET text = :t"), {"t": tampered})
    with Session(engine) as session, pytest.raises(TamperedContentError):
        session.scalars(select(PassageText)).all()


def test_legacy_clear_rows_are_read_and_counted(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO passage_texts (id, parent_id, position, title, text, meta) VALUES "
                "('old:0', 'old', 0, 'ancien', 'texte en clair', '{}')"
            )
        )
    with Session(engine) as session:
        session.add(PassageText(id="new:0", parent_id="new", title="neuf", text="scellé", meta={}))
        session.commit()
        assert session.get(PassageText, "old:0").text == "texte en clair"  # type: ignore[union-attr]
    assert legacy_rows(engine, Base.metadata)["passage_texts"] == 1


def test_legacy_clear_rows_are_sealed_in_batches_and_stay_readable(engine: Engine) -> None:
    with engine.begin() as conn:
        for i in range(5):
            conn.execute(
                text(
                    "INSERT INTO passage_texts (id, parent_id, position, title, text, meta) VALUES "
                    f"('old:{i}', 'old', {i}, 'ancien {i}', 'clair {MARKER}', '{{}}')"
                )
            )
    assert seal_legacy_rows(engine, Base.metadata, batch=2)["passage_texts"] == 5
    assert legacy_rows(engine, Base.metadata)["passage_texts"] == 0
    with engine.connect() as conn:
        raw = [t for (t,) in conn.execute(text("SELECT text FROM passage_texts"))]
    assert all(t.startswith("tfe1:") and "Marqueurvault" not in t for t in raw)
    with Session(engine) as session:
        rows = session.scalars(select(PassageText).order_by(PassageText.position)).all()
        assert [r.title for r in rows] == [f"ancien {i}" for i in range(5)]
        assert {r.text for r in rows} == {f"clair {MARKER}"}
    assert seal_legacy_rows(engine, Base.metadata)["passage_texts"] == 0  # idempotent


def test_owner_keys_seal_open_and_shred(engine: Engine) -> None:
    vault = vault_of(engine)
    sealed = vault.seal_bytes("document", "d1", MARKER.encode(), b"blob:x")
    assert MARKER.encode() not in sealed
    assert vault.open_bytes(sealed, b"blob:x") == MARKER.encode()
    fresh = Vault(vault.provider, vault.keys_dir, engine)  # another process: no cache, same keys
    assert fresh.open_bytes(sealed, b"blob:x") == MARKER.encode()
    assert fresh.column_key_id == vault.column_key_id
    with pytest.raises(TamperedContentError):
        fresh.open_bytes(sealed, b"blob:y")
    other = vault.seal_bytes("document", "d2", b"autre")
    assert vault.destroy("document", "d1") == 1 and vault.destroy("document", "d1") == 0
    for reader in (vault, Vault(vault.provider, vault.keys_dir, engine)):  # this process, a new one
        with pytest.raises(NotFoundError, match="erased"):
            reader.open_bytes(sealed, b"blob:x")
    assert vault.open_bytes(other) == b"autre"
    again = vault.seal_bytes("document", "d1", b"nouveau")  # a new key for a reused owner id
    assert vault.open_bytes(again) == b"nouveau"


def test_a_new_owner_gets_one_key_under_concurrency(engine: Engine) -> None:
    vaults = [Vault(vault_of(engine).provider, vault_of(engine).keys_dir, engine) for _ in range(6)]
    barrier = threading.Barrier(len(vaults))
    sealed: list[bytes] = []
    errors: list[BaseException] = []

    def work(vault: Vault) -> None:
        try:
            barrier.wait()
            sealed.append(vault.seal_bytes("document", "race", b"course"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in vaults]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        rows = session.scalars(select(DataKey).where(DataKey.owner_id == "race")).all()
    assert len(rows) == 1 and len({s[4:20] for s in sealed}) == 1
    assert all(vault_of(engine).open_bytes(s) == b"course" for s in sealed)


def test_status_and_signer_survive_rotation(engine: Engine) -> None:
    vault = vault_of(engine)
    for i in range(3):
        vault.seal_bytes("document", f"s{i}", b"x")
    signer = vault.signer()
    signature = signer.sign(b'{"erased": "d1"}')
    status = vault.status()
    kek = status["current_kek_id"]
    assert status["provider"] == "file" and status["data_keys"] == {kek: 4}  # 3 documents + the signer
    assert status["column_key"]["kek_id"] == kek and status["revoked_on"] is None
    report = vault.rotate(grace_s=0)
    assert report.rewrapped == 4 and report.retired == [kek] and report.failed == 0
    after = Vault(vault.provider, vault.keys_dir, engine)  # a process started after the rotation
    assert after.status()["data_keys"] == {report.new_kek_id: 4}
    assert after.status()["column_key"]["kek_id"] == report.new_kek_id
    resigned = after.signer()
    assert resigned.public_key_hex == signer.public_key_hex
    assert resigned.verify(b'{"erased": "d1"}', signature)
    assert verify_signature(signer.public_key_hex, b'{"erased": "d1"}', signature)
    assert not verify_signature(signer.public_key_hex, b'{"erased": "d2"}', signature)
    assert not verify_signature(signer.public_key_hex, b"x", "not base64!")


def test_revocation_is_final_and_seen_by_every_process(engine: Engine, db_settings: Settings) -> None:
    serving = vault_of(engine)
    sealed = serving.seal_bytes("document", "r1", b"lisible avant")
    column = serving.seal_text("titre")
    operator_engine = make_engine(db_settings)  # tfe keys revoke runs in another process
    when = vault_of(operator_engine).revoke()
    assert serving.revoked_on(fresh=True) == when
    for attempt in (
        lambda: serving.open_bytes(sealed),
        lambda: serving.open_text(column),
        lambda: serving.seal_text("x"),
        lambda: serving.seal_bytes("document", "r2", b"x"),
        lambda: serving.signer(),
    ):
        with pytest.raises(KeyRevokedError) as caught:
            attempt()
        assert caught.value.http_status == 503
        assert caught.value.message == (
            f"the encryption key was revoked by the operator on {when}: stored content can no longer be read"
        )
    keys = db_settings.keys_dir
    assert not (keys / "master.key").exists() and not (keys / "columns.json").exists()
    with Session(engine) as session:
        assert session.scalars(select(DataKey)).all() == []
    later = make_engine(db_settings)  # a restart: the service starts, and says why it cannot read
    assert vault_of(later).status() == {"provider": "revoked", "revoked_on": when, "keys_dir": str(keys)}
    with pytest.raises(KeyRevokedError):
        vault_of(later).open_text(column)
    operator_engine.dispose()
    later.dispose()
