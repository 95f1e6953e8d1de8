"""Behaviour switches: how a simulator answers where the provider documents leave it open.

Each simulator has one frozen dataclass of switches (``DailyBehaviour`` and so on, in
its own module, which documents every switch). They derive from ``Behaviour``, whose
switches every simulator has. A simulator reads its current switches on every request,
so they can be set at start (``create_simulators(behaviour=...)``, ``meetingmesh
simulate --behaviour daily:participant_order=newest_first``) and at run time
(``PUT <base_url>/_sim/behaviour``). This module turns JSON objects and command-line
text into those dataclasses, refusing unknown names and wrong types.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

B = TypeVar("B", bound="Behaviour")


class BehaviourSettingsError(ValueError):
    """Raised for a switch that does not exist or a value it cannot take."""


@dataclass(frozen=True)
class Behaviour:
    """Switches every simulator has."""

    #: Every error body repeats the credentials the request carried (the bearer token and,
    #: on the auth endpoints, the access key, client secret and refresh token): a
    #: careless provider, for testing the gateway's redaction (issue 9). Off by default.
    echo_credentials: bool = False


def from_mapping(cls: type[B], values: Mapping[str, Any]) -> B:
    """``cls`` with ``values`` over its defaults; unknown names and wrong types are errors."""
    hints = _hints(cls)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise BehaviourSettingsError(
            f"unknown behaviour setting(s): {', '.join(unknown)} "
            f"(known: {', '.join(sorted(hints))})"
        )
    checked = {name: _check(name, hints[name], value) for name, value in values.items()}
    behaviour = cls(**checked)
    validate = getattr(behaviour, "validate", None)
    if callable(validate):
        try:
            validate()
        except ValueError as exc:
            raise BehaviourSettingsError(str(exc)) from None
    return behaviour


def parse_text(cls: type[Behaviour], name: str, text: str) -> Any:
    """The value of ``name`` written as command-line text (``true``, ``30``, ``newest_first``)."""
    hints = _hints(cls)
    if name not in hints:
        raise BehaviourSettingsError(
            f"unknown behaviour setting: {name} (known: {', '.join(sorted(hints))})"
        )
    kinds = _kinds(hints[name])
    if text.lower() in ("true", "false") and bool in kinds:
        return text.lower() == "true"
    if text.lower() in ("null", "none") and type(None) in kinds:
        return None
    for kind in (int, float):
        if kind in kinds:
            try:
                return kind(text)
            except ValueError:
                pass
    return text


def as_dict(behaviour: Behaviour) -> dict[str, Any]:
    """The switches as a JSON-ready object."""
    return dataclasses.asdict(behaviour)


def _hints(cls: type[Behaviour]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _kinds(hint: Any) -> tuple[Any, ...]:
    """The plain types and Literal values a hint admits."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return tuple(k for arg in typing.get_args(hint) for k in _kinds(arg))
    if origin is Literal:
        return typing.get_args(hint)
    return (hint,)


def _check(name: str, hint: Any, value: Any) -> Any:
    kinds = _kinds(hint)
    literals = [k for k in kinds if not isinstance(k, type)]
    if value is None and type(None) in kinds:
        return None
    if isinstance(value, bool):
        if bool in kinds:
            return value
    elif isinstance(value, int) and int in kinds:
        return value
    elif isinstance(value, int | float) and float in kinds:
        return float(value)
    elif isinstance(value, str) and (str in kinds or value in literals):
        return value
    expected = [k.__name__ for k in kinds if isinstance(k, type)] + [repr(k) for k in literals]
    raise BehaviourSettingsError(f"{name} must be {' or '.join(expected)}, got {value!r}")
