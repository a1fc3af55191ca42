"""Loading model artifacts safely.

``.skops`` files are loaded with :func:`skops.io.load`, trusting exactly the types the file
needs, and only if each of them is on an allow-list of scikit-learn/NumPy/SciPy types (or
was named in `trusted`). Pickle-based files (``.pkl``, ``.pickle``, ``.joblib``) can run any
code while they load, so they are refused unless `allow_pickle` is set
(``MODELGATE_ALLOW_PICKLE=true``). A file whose sha256 differs from the registered one is
always refused. Every refusal is a :class:`~checks.base.CheckInputError`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from checks.base import CheckInputError

log = logging.getLogger(__name__)

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
PICKLE_SETTING = "MODELGATE_ALLOW_PICKLE=true"

# Types from these packages may be trusted when a .skops file asks for them ...
ALLOWED_TYPE_PREFIXES = ("sklearn.", "numpy.", "scipy.")
# ... except these, which touch files, memory or processes.
DENIED_TYPE_PREFIXES = (
    "numpy.load",
    "numpy.save",
    "numpy.fromfile",
    "numpy.memmap",
    "numpy.tofile",
    "numpy.ctypeslib",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.distutils",
    "numpy.f2py",
    "numpy.testing",
    "scipy.io",
    "sklearn.datasets",
    "sklearn.utils._testing",
)


def _path_of(path_or_uri: str | Path) -> Path:
    text = str(path_or_uri)
    if "://" not in text:
        return Path(text).expanduser()
    parsed = urlparse(text)
    if parsed.scheme.lower() != "file" or parsed.netloc not in ("", "localhost"):
        raise CheckInputError(
            f"cannot load model {text}: only local paths and file:// URIs are supported"
        )
    return Path(url2pathname(parsed.path))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_allowed_type(name: str, trusted: list[str] | None = None) -> bool:
    """Whether a type name that skops reports as untrusted may be trusted."""
    if trusted and name in trusted:
        return True
    if name.startswith(DENIED_TYPE_PREFIXES):
        return False
    return name.startswith(ALLOWED_TYPE_PREFIXES)


def _load_skops(path: Path, shown: str, trusted: list[str] | None) -> Any:
    import skops.io as sio

    try:
        wanted = list(sio.get_untrusted_types(file=path))
    except Exception as exc:
        raise CheckInputError(
            f"cannot load model {shown}: not a readable skops file ({type(exc).__name__}: {exc})"
        ) from exc
    refused = [t for t in wanted if not is_allowed_type(t, trusted)]
    if refused:
        raise CheckInputError(
            f"refusing to load model {shown}: it needs types outside the allow-list "
            f"(scikit-learn/NumPy/SciPy): {', '.join(refused)}; if you trust them, add them "
            "to the trusted types setting"
        )
    log.debug("loading %s trusting %s", shown, wanted)
    try:
        return sio.load(path, trusted=wanted)
    except Exception as exc:
        raise CheckInputError(f"cannot load model {shown}: {type(exc).__name__}: {exc}") from exc


def _load_pickle(path: Path, shown: str, allow_pickle: bool) -> Any:
    if not allow_pickle:
        raise CheckInputError(
            f"refusing to load pickle model {shown}: loading a pickle/joblib file can run "
            "arbitrary code, so it is off by default; save the model with skops.io.dump "
            f"instead, or set {PICKLE_SETTING} if you trust where the file came from"
        )
    import joblib

    log.warning("loading pickle model %s (%s is set)", shown, PICKLE_SETTING)
    try:
        return joblib.load(path)
    except Exception as exc:
        raise CheckInputError(f"cannot load model {shown}: {type(exc).__name__}: {exc}") from exc


def load_model(
    path_or_uri: str | Path,
    *,
    expected_sha256: str | None,
    trusted: list[str] | None = None,
    allow_pickle: bool = False,
) -> Any:
    """Load a model artifact after checking its hash and the types it may create.

    `trusted` adds type names to the allow-list (e.g. a custom transformer you reviewed).
    ``expected_sha256=None`` skips the hash check (the registry always passes one).
    """
    shown = str(path_or_uri)
    path = _path_of(path_or_uri)
    name = path.name.lower()
    if name.endswith(SKOPS_SUFFIXES):
        kind = "skops"
    elif name.endswith(PICKLE_SUFFIXES):
        kind = "pickle"
    else:
        raise CheckInputError(
            f"cannot load model {shown}: unsupported artifact type; use .skops "
            f"(or {', '.join(PICKLE_SUFFIXES)} with {PICKLE_SETTING})"
        )
    if not path.is_file():
        raise CheckInputError(f"cannot load model {shown}: file not found")
    if kind == "pickle" and not allow_pickle:
        _load_pickle(path, shown, allow_pickle)  # raises the refusal before reading a byte
    if expected_sha256 is not None:
        actual = sha256_of(path)
        if actual.lower() != expected_sha256.strip().lower():
            raise CheckInputError(
                f"refusing to load model {shown}: sha256 {actual} does not match the "
                f"registered {expected_sha256}; the file changed after it was registered"
            )
    if kind == "skops":
        return _load_skops(path, shown, trusted)
    return _load_pickle(path, shown, allow_pickle)
