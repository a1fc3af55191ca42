"""Field types for everything users send: bounded, NUL-free, encodable text; slugs; hashes;
JSON values without NaN/Infinity. Both databases accept whatever passes these."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, JsonValue, StringConstraints

from modelgate.types import as_utc

MAX_JSON_DEPTH = 32


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc
    return value


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length),
        AfterValidator(clean_text),
    ]


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$"),
]
VersionLabel = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")]
ColumnName = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(clean_text)
]
Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/=-]{0,63}$")]
Uri = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000, pattern=r"^\S+$"),
    AfterValidator(clean_text),
]
Sha256 = Annotated[
    str,
    BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
]
CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{7,64}$")]
SlackChannel = Annotated[
    str, StringConstraints(pattern=r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{4,20})$")
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number (not NaN or Infinity)")
    return value


FiniteFloat = Annotated[float, AfterValidator(_finite)]


def _check_json(value: Any, depth: int = 0) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, float):
        _finite(value)
    elif isinstance(value, str):
        clean_text(value)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            clean_text(key)
            _check_json(item, depth + 1)
    return value


SafeJson = Annotated[JsonValue, AfterValidator(_check_json)]


def _utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError as exc:
        raise ValueError("is out of the representable date range") from exc


UTCDatetime = Annotated[datetime, AfterValidator(_utc)]
