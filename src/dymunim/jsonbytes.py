"""JSON to and from bytes: orjson, and the standard library for what orjson refuses.

orjson is fast but stricter than JSON: it will not write integers beyond 64 bits (JSON allows them,
and a job's payload may hold them) and will not read strings with unpaired UTF-16 surrogates (which
job code can produce). Both directions fall back to the standard library for those, so such a value
costs a slower encode or decode, never a failed call. (orjson reads an integer beyond 64 bits as a
float, the number JavaScript reads too.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["dumps", "loads", "loads_flagged"]


def dumps(obj: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON bytes (orjson); the standard library's `json.dumps` for what orjson refuses.

    `default` is used by that fallback only (e.g. `str` to write values of other types as text).
    """
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, default=default).encode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes | str) -> Any:
    """orjson; the standard library for what orjson refuses (unpaired surrogates).

    NaN and Infinity are not JSON and are refused either way. Raises ValueError for invalid JSON.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw, parse_constant=_reject_constant)


def loads_flagged(raw: bytes | str, *, constants: bool = False) -> tuple[Any, bool]:
    """(value, lenient): as `loads`, and `lenient` is True when the standard library parsed it.

    Only then may its strings hold unpaired surrogates (orjson refuses them), so a caller that
    stores them must check. `constants=True` lets that fallback accept NaN and ±Infinity.
    """
    try:
        return orjson.loads(raw), False
    except orjson.JSONDecodeError:
        if constants:
            return json.loads(raw), True
        return json.loads(raw, parse_constant=_reject_constant), True
