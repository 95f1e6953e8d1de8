"""Live events as JSON for Redis pub/sub, and back: typed, and only the project's own types.

An event (``meetingmesh.events``) is a frozen dataclass of domain records
(``meetingmesh.domain``). ``encode`` writes every dataclass and enum with its class
name, datetimes in ISO 8601, tuples and frozensets tagged; ``decode`` rebuilds them,
instantiating only the dataclasses and enums of those two modules (never a class a
message names otherwise), so a message cannot make a process build anything else.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from meetingmesh import domain, events


def _own(module: object) -> dict[str, type]:
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and value.__module__ == getattr(module, "__name__", None)
        and (dataclasses.is_dataclass(value) or issubclass(value, enum.Enum))
    }


#: Every type a message may name.
TYPES: dict[str, type] = {**_own(domain), **_own(events)}


class Unreadable(ValueError):
    """A message that is not an encoded event of this version of the gateway."""


def encode(value: Any) -> Any:
    """``value`` as plain JSON data, every type tagged."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return {"@e": type(value).__name__, "v": value.name}
    if isinstance(value, datetime):
        return {"@t": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"@": type(value).__name__, "f": fields}
    if isinstance(value, tuple):
        return {"@tu": [encode(v) for v in value]}
    if isinstance(value, frozenset):
        return {"@fs": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"@m": {str(k): encode(v) for k, v in value.items()}}
    raise TypeError(f"cannot encode a {type(value).__name__}")


def decode(data: Any) -> Any:
    """What ``encode`` wrote; ``Unreadable`` for anything else."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise Unreadable(f"unexpected {type(data).__name__}")
    try:
        if "@" in data:
            cls = _known(data["@"])
            if not dataclasses.is_dataclass(cls):
                raise Unreadable(f"{data['@']} is not a record")
            return cls(**{name: decode(v) for name, v in data["f"].items()})
        if "@e" in data:
            cls = _known(data["@e"])
            if not issubclass(cls, enum.Enum):
                raise Unreadable(f"{data['@e']} is not an enum")
            return cls[data["v"]]
        if "@t" in data:
            return datetime.fromisoformat(data["@t"])
        if "@tu" in data:
            return tuple(decode(v) for v in data["@tu"])
        if "@fs" in data:
            return frozenset(decode(v) for v in data["@fs"])
        if "@m" in data:
            return {k: decode(v) for k, v in data["@m"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise Unreadable(str(exc)) from None
    raise Unreadable("an untagged object")


def _known(name: object) -> type:
    cls = TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise Unreadable(f"unknown type {name!r}")
    return cls
