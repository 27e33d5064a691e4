"""The Ed25519 signer of erasure receipts, its private key kept sealed by the vault.

The private key is made once per installation and stored in ``keys/signing.key`` as an envelope under
the data key of owner ``("signing", "erasure-receipts")``: a rotation rewraps that data key like any
other, so receipts signed before and after a rotation verify alike. ``keys/signing.pub`` holds the public
key (hex) in clear, so a receipt can be checked with ``verify_signature`` without any secret.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tfe.core.crypto.files import create_private, write_private

if TYPE_CHECKING:
    from tfe.core.crypto.vault import Vault

__all__ = ["ReceiptSigner", "load_signer", "verify_signature"]

OWNER = ("signing", "erasure-receipts")
PRIVATE_FILE = "signing.key"
PUBLIC_FILE = "signing.pub"


class ReceiptSigner:
    """Signs payloads (base64 Ed25519 signatures) and verifies them."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        self.public_key_hex = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._private.sign(payload)).decode("ascii")

    def verify(self, payload: bytes, signature: str) -> bool:
        return verify_signature(self.public_key_hex, payload, signature)


def verify_signature(public_key_hex: str, payload: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) signs ``payload`` under the Ed25519 public key ``public_key_hex``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def load_signer(vault: Vault) -> ReceiptSigner:
    """The installation's signer, its key made and sealed on first use (race-free between processes)."""
    path = vault.keys_dir / PRIVATE_FILE
    if not path.exists():
        fresh = Ed25519PrivateKey.generate()
        raw = fresh.private_bytes_raw()
        create_private(path, vault.seal_bytes(*OWNER, raw, context=b"signing-key"))
    raw = vault.open_bytes(path.read_bytes(), context=b"signing-key")
    signer = ReceiptSigner(Ed25519PrivateKey.from_private_bytes(raw))
    public = vault.keys_dir / PUBLIC_FILE
    if not public.exists():
        write_private(public, (signer.public_key_hex + "\n").encode())
    return signer
