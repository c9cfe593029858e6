"""Signing and checking oracle reports: Ed25519 through the ``cryptography`` library.

The private key is a PEM (PKCS#8) file readable by its owner only (mode 0600); loading one
that group or others may read is refused. The public key is a PEM (SubjectPublicKeyInfo)
file. A signature is detached: ``indices.json.sig`` holds the base64 of the 64-byte Ed25519
signature over the exact bytes of ``indices.json``. ``key_id`` (first 16 hex digits of the
sha256 of the raw public key) names the key inside the report.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from index.errors import SpotindexError

SIGNATURE_SUFFIX = ".sig"
KEY_ENV = "SPOTINDEX_SIGNING_KEY"


class SigningError(SpotindexError):
    """A key cannot be made, read or used."""


class VerificationError(SpotindexError):
    """A report does not match its signature or its key."""


def key_paths(prefix: Path) -> tuple[Path, Path]:
    """``PREFIX.key`` (private) and ``PREFIX.pub`` (public)."""
    return prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")


def keygen(prefix: Path, force: bool = False) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair; the private file is created with mode 0600."""
    key_path, pub_path = key_paths(prefix)
    if not force and (key_path.exists() or pub_path.exists()):
        raise SigningError(f"{key_path} or {pub_path} exists: refusing to overwrite a key (use --force to replace it)")
    key_path.parent.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    tmp = key_path.with_name(key_path.name + f".tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, key_path)
    pub_path.write_bytes(public_pem(private.public_key()))
    return key_path, pub_path


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a private key, refusing a file that group or others can read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SigningError(f"signing key {path} does not exist: create one with 'spotindex keygen'") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningError(f"signing key {path} has mode {stat.S_IMODE(mode):04o}: a private key must be readable "
                           f"by its owner only; run 'chmod 600 {path}'")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise VerificationError(f"public key {path} does not exist") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:  # a bare 32-byte key, base64 or hex on one line
            text = data.strip().decode()
            raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
            key = Ed25519PublicKey.from_public_bytes(raw)
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise VerificationError(f"{path} is not an Ed25519 public key (PEM, or 32 bytes in hex/base64)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise VerificationError(f"{path} is not an Ed25519 public key")
    return key


def sign(data: bytes, private: Ed25519PrivateKey) -> bytes:
    """The detached signature file's contents: base64 of the signature, one line."""
    return base64.b64encode(private.sign(data)) + b"\n"


def verify(data: bytes, signature_file: bytes, public: Ed25519PublicKey, what: str = "report") -> None:
    """Raise VerificationError unless ``signature_file`` is a valid signature of ``data``."""
    try:
        sig = base64.b64decode(signature_file.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise VerificationError(f"the signature of {what} is not base64: the signature file is damaged") from None
    try:
        public.verify(sig, data)
    except InvalidSignature:
        raise VerificationError(
            f"signature check FAILED for {what}: the report was changed after signing, the signature file is "
            f"damaged, or it was signed by another key (this key's id is {key_id(public)})") from None


def signing_key_path(option: Path | None) -> Path | None:
    """``--key`` if given, else the path in SPOTINDEX_SIGNING_KEY, else None (unsigned)."""
    if option is not None:
        return option
    env = os.environ.get(KEY_ENV)
    return Path(env) if env else None
