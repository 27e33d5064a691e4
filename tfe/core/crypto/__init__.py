"""Encryption at rest: envelope encryption (AES-256-GCM data keys wrapped by the operator's key).

``columns.SealedText`` seals stored texts in the database; ``vault.Vault`` holds the key-encryption key
provider (a key file or a PKCS#11 token) and the data keys; blobs are sealed per document so that erasing
a document destroys its data key (crypto-shredding).
"""
