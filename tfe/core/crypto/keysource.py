"""Which key-encryption-key provider the settings name.

The PKCS#11 token when ``TFE_KEY_PROVIDER=pkcs11``; the key file ``TFE_MASTER_KEY_FILE`` when set; else,
in development and test only, a key file created under ``<data_dir>/keys`` (with a warning in the log,
never the key). Production without a key refuses to start. Settings stay pure: this is where the files
are looked at, when the vault is built.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tfe.core.crypto.providers import FileKeyProvider, KeyProvider
from tfe.core.errors import ConfigurationError

if TYPE_CHECKING:
    from tfe.core.settings import Settings

__all__ = ["build_provider"]

log = logging.getLogger("tfe.core.crypto.vault")


def build_provider(settings: Settings) -> KeyProvider:
    """The KEK provider the settings name; ``ConfigurationError`` when none is usable."""
    if settings.key_provider == "pkcs11":
        from tfe.core.crypto.pkcs11 import Pkcs11KeyProvider

        if not settings.pkcs11_token_label or settings.pkcs11_pin is None:
            raise ConfigurationError(
                "TFE_KEY_PROVIDER=pkcs11 needs TFE_PKCS11_TOKEN_LABEL and TFE_PKCS11_PIN"
            )
        return Pkcs11KeyProvider(
            settings.pkcs11_library,
            settings.pkcs11_token_label,
            settings.pkcs11_pin.get_secret_value(),
            settings.pkcs11_key_label,
        )
    if settings.master_key_file is not None:
        return FileKeyProvider(settings.master_key_file.expanduser())
    if settings.environment == "production":
        raise ConfigurationError(
            "production needs a key: set TFE_MASTER_KEY_FILE, "
            "or TFE_KEY_PROVIDER=pkcs11 and the PKCS#11 settings"
        )
    path = settings.keys_dir / "master.key"
    if not path.exists() and (settings.keys_dir / "columns.json").exists():
        raise ConfigurationError(  # a new key would not open what the lost one sealed
            f"the development key file {path} is missing but this installation has keys sealed by it: "
            "restore it, or set TFE_MASTER_KEY_FILE to the installation's key file"
        )
    if not path.exists():
        log.warning("no TFE_MASTER_KEY_FILE: using a development key file at %s (not for production)", path)
    return FileKeyProvider(path, create=True, name="key file")
