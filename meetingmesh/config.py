"""Settings from a TOML file with ``${VAR}`` environment interpolation.

The file follows the configuration contract in DESIGN.md. A provider without a section
is off. Every problem is reported as one ``ConfigError`` line naming the key at fault;
token values never appear in messages or ``repr``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from meetingmesh.domain import Provider

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SERVER_KEYS = {"graphiql", "introspection", "api_keys"}
_PROVIDER_KEYS = {"base_url", "token", "timeout", "cache_ttl", "concurrency"}
_EXTRA_KEYS: dict[Provider, set[str]] = {Provider.HEYPEERS: {"organization_id"}}


class ConfigError(Exception):
    """An invalid configuration; the message is one line that names the key."""


@dataclass(frozen=True)
class ServerSettings:
    """The ``[server]`` section."""

    graphiql: bool = True
    introspection: bool = True
    api_keys: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class ProviderSettings:
    """One ``[providers.NAME]`` section."""

    provider: Provider
    base_url: str
    token: str = field(repr=False)
    timeout: float = 10.0
    organization_id: int | None = None
    cache_ttl: float = 10.0
    concurrency: int = 16


@dataclass(frozen=True)
class Settings:
    """Everything the gateway needs to start."""

    server: ServerSettings = field(default_factory=ServerSettings)
    providers: Mapping[Provider, ProviderSettings] = field(default_factory=dict)

    def secrets(self) -> list[str]:
        """Every configured secret, for redaction and for tests that check it never leaks."""
        return [p.token for p in self.providers.values()] + list(self.server.api_keys)


def load_settings(path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a configuration file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_settings(raw, os.environ if environ is None else environ)


def parse_settings(raw: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    """Validate an already-parsed TOML document."""
    unknown = sorted(set(raw) - {"server", "providers"})
    if unknown:
        raise ConfigError(f"unknown section [{unknown[0]}]")
    server = _parse_server(_table(raw, "server"), environ)
    providers_table = _table(raw, "providers")
    names = {p.value: p for p in Provider}
    providers: dict[Provider, ProviderSettings] = {}
    for name, section in providers_table.items():
        if name not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(f"unknown provider [providers.{name}] (known: {known})")
        if not isinstance(section, dict):
            raise ConfigError(f"providers.{name} must be a table")
        providers[names[name]] = _parse_provider(names[name], section, environ)
    return Settings(server=server, providers=providers)


def _table(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _parse_server(section: dict[str, Any], environ: Mapping[str, str]) -> ServerSettings:
    _reject_unknown("server", section, _SERVER_KEYS)
    keys = section.get("api_keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConfigError("server.api_keys must be a list of strings")
    resolved = tuple(_interpolate("server.api_keys", k, environ) for k in keys)
    if any(not k for k in resolved):
        raise ConfigError("server.api_keys must not contain an empty key")
    return ServerSettings(
        graphiql=_bool("server.graphiql", section.get("graphiql", True)),
        introspection=_bool("server.introspection", section.get("introspection", True)),
        api_keys=resolved,
    )


def _parse_provider(
    provider: Provider, section: dict[str, Any], environ: Mapping[str, str]
) -> ProviderSettings:
    where = f"providers.{provider.value}"
    _reject_unknown(where, section, _PROVIDER_KEYS | _EXTRA_KEYS.get(provider, set()))
    for key in ("base_url", "token"):
        if key not in section:
            raise ConfigError(f"{where}.{key} is required")
        if not isinstance(section[key], str):
            raise ConfigError(f"{where}.{key} must be a string")
    base_url = _interpolate(f"{where}.base_url", section["base_url"], environ).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}.base_url must be an http(s) URL, got {base_url!r}")
    token = _interpolate(f"{where}.token", section["token"], environ)
    if not token:
        raise ConfigError(f"{where}.token is empty")
    timeout = section.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{where}.timeout must be a positive number of seconds")
    cache_ttl = section.get("cache_ttl", 10.0)
    if isinstance(cache_ttl, bool) or not isinstance(cache_ttl, int | float) or cache_ttl < 0:
        raise ConfigError(f"{where}.cache_ttl must be a number of seconds >= 0 (0 turns it off)")
    concurrency = section.get("concurrency", 16)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"{where}.concurrency must be a positive integer")
    organization_id = None
    if provider is Provider.HEYPEERS:
        organization_id = section.get("organization_id")
        if isinstance(organization_id, str):
            organization_id = _interpolate(f"{where}.organization_id", organization_id, environ)
            organization_id = int(organization_id) if organization_id.isdigit() else None
        if not isinstance(organization_id, int) or isinstance(organization_id, bool):
            raise ConfigError(f"{where}.organization_id is required and must be an integer")
    return ProviderSettings(
        provider=provider,
        base_url=base_url,
        token=token,
        timeout=float(timeout),
        organization_id=organization_id,
        cache_ttl=float(cache_ttl),
        concurrency=concurrency,
    )


def _reject_unknown(where: str, section: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"unknown key {where}.{unknown[0]}")


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false")
    return value


def _interpolate(key: str, value: str, environ: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{key} refers to ${{{name}}}, which is not set in the environment")
        return environ[name]

    return _VARIABLE.sub(replace, value)
