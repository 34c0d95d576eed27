"""Envelope encryption (SPEC §3.8): AES-256-GCM data keys per school, wrapped by the master key.

Every sealed value is `nonce (12 bytes) || ciphertext+tag`, with associated data that binds it to where
it belongs (school, resource, record id, key id), so ciphertext copied to another row or school fails
to open. Pure functions over `cryptography`'s AESGCM; no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionFailed(Exception):
    """The ciphertext, its associated data or its key is wrong: never say which."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    return opener(key)(sealed, associated_data)


def opener(key: bytes) -> Callable[[bytes, bytes], bytes]:
    """`open_sealed` for many values under one key, the cipher set up once (a page of records)."""
    cipher = AESGCM(key)

    def open_one(sealed: bytes, associated_data: bytes) -> bytes:
        if len(sealed) < NONCE_BYTES + 16:
            raise DecryptionFailed
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data)
        except InvalidTag:
            raise DecryptionFailed from None

    return open_one


def master_key_id(master_key: bytes) -> str:
    """A short public fingerprint of a master key, stored beside what it wraps."""
    return hmac.new(master_key, b"gateway master key id", hashlib.sha256).hexdigest()[:16]


def wrap(master_key: bytes, key: bytes, purpose: bytes) -> bytes:
    """Wrap a data key (or server secret) under the master key, bound to its purpose."""
    return seal(master_key, key, b"wrap|" + purpose)


def unwrap(master_key: bytes, wrapped: bytes, purpose: bytes) -> bytes:
    return open_sealed(master_key, wrapped, b"wrap|" + purpose)


def record_context(school_id: str, resource: str, record_id: str, key_id: str) -> bytes:
    """Associated data for one MIS record: ciphertext only opens in the row it was written for."""
    return "|".join(("record", school_id, resource, record_id, key_id)).encode()
