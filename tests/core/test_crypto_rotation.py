"""``rotate`` run by the operator's process while a serving process reads and writes: no request fails,
and afterwards everything opens under the new KEK alone (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from ged.blobs import BlobStore
from tfe.core.crypto.columns import sealer_of
from tfe.core.crypto.rotation import BATCH
from tfe.core.crypto.vault import Vault
from tfe.core.db import make_engine, migrate
from tfe.core.settings import Settings

OWNERS = BATCH + 50  # more than one batch


def vault_of(engine: object) -> Vault:
    vault = sealer_of(engine.dialect)  # type: ignore[attr-defined]
    assert isinstance(vault, Vault)
    return vault


def test_rotation_while_serving_reads_and_writes(db_settings: Settings) -> None:
    serving_engine = make_engine(db_settings)
    migrate(serving_engine)
    serving = vault_of(serving_engine)
    store = BlobStore(db_settings.blob_dir, serving)
    blobs = {
        store.put(f"contenu {i}".encode(), owner=f"doc{i:04d}"): f"contenu {i}".encode()
        for i in range(OWNERS)
    }
    column = serving.seal_text("un titre scellé")
    old_kek = serving.provider.current_kek_id  # type: ignore[union-attr]

    stop = threading.Event()
    failures: list[str] = []
    reads = [0]
    written: dict[str, bytes] = {}
    keys = list(blobs)

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            cold = Vault(serving.provider, serving.keys_dir, serving_engine)  # no cached data keys
            cold_store = BlobStore(db_settings.blob_dir, cold)
            for key in rng.sample(keys, 20):
                try:
                    if cold_store.get(key) != blobs[key]:
                        failures.append(f"wrong bytes for {key}")
                    if cold.open_text(column) != "un titre scellé":
                        failures.append("wrong column text")
                    reads[0] += 1
                except Exception as exc:
                    failures.append(f"read {key}: {type(exc).__name__}: {exc}")

    def writer() -> None:
        i = 0
        while not stop.is_set():
            data = f"nouveau {i}".encode()
            try:
                written[store.put(data, owner=f"new{i:04d}")] = data
            except Exception as exc:
                failures.append(f"write {i}: {type(exc).__name__}: {exc}")
            i += 1
            time.sleep(0.005)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(2)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    operator_engine = make_engine(db_settings)  # tfe keys rotate: another process, its own keyring copy
    seen: list[tuple[int, int]] = []
    try:
        report = vault_of(operator_engine).rotate(
            progress=lambda done, total: seen.append((done, total)), grace_s=1.0
        )
        time.sleep(0.3)  # keep serving a moment under the new KEK alone
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert reads[0] > 0 and len(written) > 0
    assert report.failed == 0 and report.retired == [old_kek] and report.rewrapped >= OWNERS
    assert seen[0][0] == 0 and seen[0][1] >= OWNERS and seen[-1][0] == report.rewrapped

    after_engine = make_engine(db_settings)  # a restart after the rotation
    after = vault_of(after_engine)
    status = after.status()
    assert status["kek_ids"] == [report.new_kek_id] and set(status["data_keys"]) == {report.new_kek_id}
    assert status["column_key"]["kek_id"] == report.new_kek_id
    reread = BlobStore(db_settings.blob_dir, after)
    assert all(reread.get(k) == v for k, v in {**blobs, **written}.items())
    assert after.open_text(column) == "un titre scellé"
    assert old_kek not in Path(db_settings.keys_dir / "master.key").read_text()
    for engine in (serving_engine, operator_engine, after_engine):
        engine.dispose()
