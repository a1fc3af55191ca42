"""Local files and URIs: hashing, and turning user paths into stored URIs."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote, urlparse

from modelgate.errors import InvalidInput

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def local_path(uri: str) -> Path | None:
    """The filesystem path for a plain path or file:// URI; None for remote URIs."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme in ("",) or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):
        return Path(uri)
    return None


def to_uri(path_or_uri: str, *, field: str) -> tuple[str, str | None]:
    """Normalise a user-given location: local files become absolute file:// URIs with their
    sha256; remote URIs pass through (their hash must then be given)."""
    path = local_path(path_or_uri)
    if path is None:
        return path_or_uri, None
    if not path.is_file():
        raise InvalidInput(f"{field}: no such file {path}", field=field)
    path = path.resolve()
    return path.as_uri(), sha256_file(path)
