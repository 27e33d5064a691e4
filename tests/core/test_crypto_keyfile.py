"""The operator's key file: created 0600, refused when others may read it, missing or malformed; rotation
by another process followed; production refuses to start without a key; the CLI says it in one line (a real
``python -m tfe`` subprocess for the first error, the other commands in this process: tests.cli.runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import invoke
from tests.conftest import make_settings
from tfe.core.crypto.envelope import new_key
from tfe.core.crypto.providers import FileKeyProvider, UnknownKekError, new_keyring
from tfe.core.db import make_engine, migrate
from tfe.core.errors import ConfigurationError, TamperedContentError


def keyring(path: Path, mode: int = 0o600) -> Path:
    path.write_bytes(new_keyring())
    path.chmod(mode)
    return path


def test_created_private_and_wraps(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    provider = FileKeyProvider(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    doc = json.loads(path.read_text())
    assert doc["current"] == provider.current_kek_id and list(doc["keys"]) == [provider.current_kek_id]
    dek = new_key()
    kek_id, wrapped = provider.wrap(dek)
    assert kek_id == provider.current_kek_id and dek not in wrapped and len(wrapped) == 40
    assert provider.unwrap(kek_id, wrapped) == dek
    with pytest.raises(TamperedContentError):
        provider.unwrap(kek_id, bytes([wrapped[0] ^ 1]) + wrapped[1:])
    with pytest.raises(UnknownKekError):
        provider.unwrap("file-unknown", wrapped)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = keyring(tmp_path / "master.key", mode)
    with pytest.raises(ConfigurationError) as caught:
        FileKeyProvider(path)
    assert caught.value.message == f"TFE_MASTER_KEY_FILE {path} is readable by others: chmod 600 {path}"


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        FileKeyProvider(tmp_path / "absent.key")
    bad = tmp_path / "bad.key"
    for content in (b"not json", b"[]", b'{"current": "a", "keys": {}}', b'{"keys": {"a": "!!"}}'):
        bad.write_bytes(content)
        bad.chmod(0o600)
        with pytest.raises(ConfigurationError, match="is not a tfe keyring"):
            FileKeyProvider(bad)
    bad.write_text(json.dumps({"current": "a", "keys": {"a": "c2hvcnQ="}}))
    with pytest.raises(ConfigurationError, match="not 32 bytes"):
        FileKeyProvider(bad)


def test_rotation_by_another_instance_is_followed(tmp_path: Path) -> None:
    path = keyring(tmp_path / "master.key")
    serving, operator = FileKeyProvider(path), FileKeyProvider(path)
    dek = new_key()
    old_id, old_wrapped = serving.wrap(dek)
    new_id = operator.rotate()
    assert new_id != old_id and operator.kek_ids() == sorted([old_id, new_id])
    assert path.stat().st_mode & 0o777 == 0o600
    rewrapped = operator.wrap(dek)
    assert rewrapped[0] == new_id
    assert serving.unwrap(new_id, rewrapped[1]) == dek  # unknown id: the file is read again
    assert serving.wrap(dek)[0] == new_id  # new data keys go under the new KEK at once
    with pytest.raises(ValueError):
        operator.retire(new_id)
    operator.retire(old_id)
    assert operator.kek_ids() == [new_id]
    with pytest.raises(UnknownKekError):
        FileKeyProvider(path).unwrap(old_id, old_wrapped)
    operator.destroy_all()
    assert not path.exists()


def test_production_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, environment="production", secret_key="s" * 32)
    with pytest.raises(ConfigurationError, match="production needs a key: set TFE_MASTER_KEY_FILE"):
        make_engine(settings)
    assert not (settings.keys_dir / "master.key").exists()
    key = keyring(tmp_path / "operator.key")
    engine = make_engine(
        make_settings(tmp_path, environment="production", secret_key="s" * 32, master_key_file=key)
    )
    engine.dispose()
    assert not (settings.keys_dir / "master.key").exists()  # the operator's file, none made


def test_a_bad_or_wrong_key_file_is_refused_before_any_use(tmp_path: Path) -> None:
    key = keyring(tmp_path / "operator.key", 0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        make_engine(make_settings(tmp_path, master_key_file=key))
    key.chmod(0o600)
    make_engine(make_settings(tmp_path, master_key_file=key)).dispose()  # the installation's keys
    other = keyring(tmp_path / "other.key")
    with pytest.raises(ConfigurationError) as caught:
        make_engine(make_settings(tmp_path, master_key_file=other))
    assert "does not hold" in caught.value.message and "wrong TFE_MASTER_KEY_FILE" in caught.value.message
    make_engine(make_settings(tmp_path, master_key_file=key)).dispose()  # the right one still works


def test_a_lost_development_key_is_not_silently_replaced(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    make_engine(settings).dispose()
    (settings.keys_dir / "master.key").unlink()
    with pytest.raises(ConfigurationError, match="is missing but this installation has keys sealed by it"):
        make_engine(settings)
    assert not (settings.keys_dir / "master.key").exists()


def _tfe(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process."""
    over: dict[str, str | None] = {"TFE_DATA_DIR": str(data_dir), "TFE_ENVIRONMENT": "test"}
    over.update(dict.fromkeys(("TFE_DATABASE_URL", "TFE_MASTER_KEY_FILE", "TFE_KEY_PROVIDER")))
    return invoke({**over, **env}, *args)


def _tfe_process(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m tfe ARGS`` in a real subprocess."""
    full = {**os.environ, "TFE_DATA_DIR": str(data_dir), "TFE_ENVIRONMENT": "test", **env}
    full.pop("TFE_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tfe", *args], env=full, capture_output=True, text=True, timeout=300
    )


def test_cli_reports_a_bad_key_file_in_one_line(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = make_engine(settings)  # an installation's schema, under its development key
    migrate(engine)
    engine.dispose()
    loose = keyring(tmp_path / "loose.key", 0o644)
    done = _tfe_process(settings.data_dir, "keys", "status", TFE_MASTER_KEY_FILE=str(loose))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        == f"tfe: error: TFE_MASTER_KEY_FILE {loose} is readable by others: chmod 600 {loose}"
    )
    done = _tfe(settings.data_dir, "keys", "status", TFE_MASTER_KEY_FILE=str(tmp_path / "absent.key"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith("absent.key does not exist")
    fresh = tmp_path / "new.key"
    done = _tfe(settings.data_dir, "keys", "new-file", str(fresh))
    assert done.returncode == 0 and fresh.stat().st_mode & 0o777 == 0o600
    FileKeyProvider(fresh)  # a valid keyring
    again = _tfe(settings.data_dir, "keys", "new-file", str(fresh))
    assert again.returncode != 0 and "never overwritten" in again.stderr
