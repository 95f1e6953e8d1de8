"""Settings from a TOML file with ``${VAR}`` environment interpolation.

The file follows the configuration contract in DESIGN.md. A provider without a section
is off. Every problem is reported as one ``ConfigError`` line naming the key at fault;
token values never appear in messages or ``repr``. Every setting and its default is
listed in the README's "Operating in production" section.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from meetingmesh.domain import Provider

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """An invalid configuration; the message is one line that names the key."""


@dataclass(frozen=True)
class ServerSettings:
    """The ``[server]`` section."""

    graphiql: bool = True
    introspection: bool = True
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    #: Seconds one GraphQL request may take, upstream retries and waits included.
    deadline: float = 15.0
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    #: Largest ``first``/``last`` a connection accepts.
    max_page_size: int = 100
    #: Upper bound of the items a query may ask for, nested connections multiplied.
    max_cost: int = 10_000
    #: Upstream calls one GraphQL request may cause: its document's estimate is refused
    #: above it before any call, and calls beyond it at run time are refused too.
    max_upstream_calls: int = 100
    max_body_bytes: int = 1_048_576
    #: Seconds an idle kept-alive connection stays open between requests.
    keep_alive_timeout: int = 5
    #: Seconds a request's head may take to arrive (from connecting, or its first byte).
    header_timeout: float = 10.0
    #: Seconds a request's body may take to arrive after its head.
    body_timeout: float = 30.0
    #: Largest request head (request line and headers); larger is refused with 431.
    max_header_bytes: int = 16_384
    #: Connections (and requests in progress) at once; requests beyond get 503.
    max_connections: int = 512
    cors_origins: tuple[str, ...] = ()
    #: Serve ``/metrics`` on this port only (same host as the gateway), not on the main one.
    metrics_port: int | None = None
    #: When set, ``/metrics`` needs ``Authorization: Bearer <one of these>``.
    metrics_api_keys: tuple[str, ...] = field(default=(), repr=False)
    #: One span per upstream call through OpenTelemetry (needs the ``otel`` extra).
    tracing: bool = False
    log_format: str = "text"
    log_level: str = "INFO"
    #: Total size of the documents automatic persisted queries remember; 0 turns APQ off.
    apq_cache_bytes: int = 10_485_760
    #: A persisted-documents manifest; when set, only its documents run (persisted.py).
    trusted_documents: str = ""
    #: Most operations in one batched request (a JSON array); 0 turns batching off.
    max_batch_operations: int = 10
    #: Subscriptions open at once in this process, over every transport.
    max_subscriptions: int = 10_000
    #: Operations open at once on one WebSocket connection.
    max_subscriptions_per_connection: int = 100
    #: Seconds between heartbeats on an idle subscription (WebSocket ping, SSE comment).
    subscription_heartbeat: float = 15.0
    #: Seconds a webhook's signed timestamp may differ from now before it is refused.
    webhook_tolerance: float = 300.0
    #: Verified webhook events waiting to be processed; past it, events are dropped.
    webhook_queue: int = 1000
    #: Gateway processes serving the port (``"auto"`` in the file: one per core).
    workers: int = 1


@dataclass(frozen=True)
class ProviderSettings:
    """One ``[providers.NAME]`` section."""

    provider: Provider
    base_url: str
    #: The provider's static bearer token ("" when another credential form is configured).
    token: str = field(repr=False)
    organization_id: int | None = None
    #: HeyPeers, instead of ``token``: the organization's access key, traded for JWTs.
    access_key: str | None = field(default=None, repr=False)
    #: HubSpot, instead of ``token``: an OAuth app and the refresh token of its install.
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    #: Seconds to wait for an answer (read) and for a connection.
    timeout: float = 10.0
    connect_timeout: float = 3.0
    #: Extra attempts for idempotent requests on connection errors, 429, 502, 503, 504.
    retries: int = 2
    #: Client-side rate limit: at most ``rate_limit`` requests per ``rate_period`` seconds.
    rate_limit: int | None = None
    rate_period: float = 1.0
    #: Most requests let out at once; the rest are spaced so no ``rate_period`` holds
    #: more than ``rate_limit``. None: ``rate_limit`` at once, refilled over ``rate_period``.
    rate_burst: int | None = None
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    cache_ttl: float = 10.0
    concurrency: int = 16
    #: The secret the provider signs its webhooks with (Daily: the webhook's base64
    #: ``hmac``; HubSpot: the app's client secret); empty turns ``/webhooks/NAME`` off.
    webhook_secret: str = field(default="", repr=False)
    #: HubSpot only: the public URL HubSpot calls, which its v3 signature covers
    #: (empty: the URL the request arrived at).
    webhook_url: str = ""

    @property
    def credential_form(self) -> str:
        """Which credential this section configures, in words (never the secret)."""
        if self.access_key:
            return "access key"
        if self.refresh_token:
            return "OAuth app"
        return "token"

    def secrets(self) -> list[str]:
        """The secrets of this section (``client_id`` is an identifier, not a secret)."""
        values = (
            self.token,
            self.access_key,
            self.client_secret,
            self.refresh_token,
            self.webhook_secret,
        )
        return [v for v in values if v]


#: Each provider's published rate limit (SUPPLEMENT.md), the default client-side limit.
#: Daily publishes two: 20 a second (its burst, below) and 100 per 5 seconds.
DEFAULT_RATE_LIMITS: dict[Provider, tuple[int, float]] = {
    Provider.DAILY: (100, 5.0),
    Provider.HUBSPOT: (100, 10.0),
    Provider.THOUGHT_INDUSTRIES: (120, 60.0),
}
#: Each provider's published burst allowance, where it has one (Thought Industries: 20;
#: Daily: 20, its per-second limit).
DEFAULT_RATE_BURSTS: dict[Provider, int] = {Provider.THOUGHT_INDUSTRIES: 20, Provider.DAILY: 20}


@dataclass(frozen=True)
class RedisSettings:
    """The ``[redis]`` section: state shared by every gateway process (``meetingmesh.shared``).

    Without ``url`` (the default) every process keeps its own cache, rate limits,
    coalescing, tokens, persisted queries and events, as one process always did.
    """

    #: ``redis://[:password@]host:port/db``, ``rediss://`` (TLS) or ``unix://``; empty: off.
    url: str = field(default="", repr=False)
    #: Every key and channel starts with it, so deployments can share one Redis.
    key_prefix: str = "meetingmesh"
    #: Seconds one Redis command may take before the process falls back to its own state
    #: (an event loop busy with other requests counts too: not much less than this).
    timeout: float = 0.5
    #: Seconds to wait for a connection to Redis.
    connect_timeout: float = 0.5
    #: Seconds between two attempts to reach Redis again while it is unreachable.
    retry_interval: float = 1.0
    #: Seconds a process may hold the lock of an upstream GET (or a token renewal) that
    #: other processes wait for; a holder that dies blocks them no longer than this.
    lock_ttl: float = 3.0
    #: Seconds a persisted query stays in Redis after it was last sent or used.
    apq_ttl: float = 86_400.0

    @property
    def enabled(self) -> bool:
        """Whether a Redis is configured."""
        return bool(self.url)

    def secrets(self) -> list[str]:
        """The password the URL holds, and the URL with it (user names are not secret)."""
        password = urlsplit(self.url).password if self.url else None
        return [self.url, password, unquote(password)] if password else []

    def describe(self) -> str:
        """Where Redis is, without the password: ``redis://host:6379/0``."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        where = f"{host}:{parts.port}" if parts.port else host
        return f"{parts.scheme}://{where}{parts.path}"


@dataclass(frozen=True)
class Settings:
    """Everything the gateway needs to start."""

    server: ServerSettings = field(default_factory=ServerSettings)
    providers: Mapping[Provider, ProviderSettings] = field(default_factory=dict)
    redis: RedisSettings = field(default_factory=RedisSettings)

    def secrets(self) -> list[str]:
        """Every configured secret: ``create_app`` registers them all for redaction.

        A new kind of credential in the configuration belongs in this list (a provider
        section's in ``ProviderSettings.secrets``); tokens minted at run time are
        registered by the credential that mints them.
        """
        server = self.server
        return [
            *(s for p in self.providers.values() for s in p.secrets()),
            *server.api_keys,
            *server.metrics_api_keys,
            *self.redis.secrets(),
        ]


def provider_settings(
    provider: Provider, base_url: str, token: str, **values: Any
) -> ProviderSettings:
    """A provider section with the provider's own defaults (its published rate limit)."""
    limit, period = DEFAULT_RATE_LIMITS.get(provider, (None, 1.0))
    settings = ProviderSettings(
        provider=provider,
        base_url=base_url,
        token=token,
        rate_limit=limit,
        rate_period=period,
        rate_burst=DEFAULT_RATE_BURSTS.get(provider),
    )
    return replace(settings, **values)


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
    settings = parse_settings(raw, os.environ if environ is None else environ)
    manifest = settings.server.trusted_documents
    if manifest and not Path(manifest).is_absolute():
        # A manifest path is relative to the configuration file, like the file it ships with.
        server = replace(settings.server, trusted_documents=str(Path(path).parent / manifest))
        settings = replace(settings, server=server)
    return settings


def parse_settings(raw: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    """Validate an already-parsed TOML document."""
    unknown = sorted(set(raw) - {"server", "providers", "redis"})
    if unknown:
        raise ConfigError(f"unknown section [{unknown[0]}]")
    server = _parse_server(_table(raw, "server"), environ)
    redis = _parse_redis(_table(raw, "redis"), environ)
    names = {p.value: p for p in Provider}
    providers: dict[Provider, ProviderSettings] = {}
    for name, section in _table(raw, "providers").items():
        if name not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(f"unknown provider [providers.{name}] (known: {known})")
        if not isinstance(section, dict):
            raise ConfigError(f"providers.{name} must be a table")
        providers[names[name]] = _parse_provider(names[name], section, environ)
    settings = Settings(server=server, providers=providers, redis=redis)
    _check_workers(settings)
    return settings


def _table(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table")
    return value


#: String settings and the values each accepts.
_CHOICES: dict[str, tuple[str, ...]] = {
    "log_format": ("text", "json"),
    "log_level": ("DEBUG", "INFO", "WARNING", "ERROR"),
}
#: Numeric settings: the smallest value each accepts.
_MINIMUMS: dict[str, float] = {
    "deadline": 0.001,
    "max_depth": 1,
    "max_aliases": 0,
    "max_tokens": 1,
    "max_page_size": 1,
    "max_cost": 1,
    "max_upstream_calls": 1,
    "max_body_bytes": 1,
    "keep_alive_timeout": 1,
    "header_timeout": 0.001,
    "body_timeout": 0.001,
    "max_header_bytes": 1024,
    "max_connections": 1,
    "metrics_port": 1,
    "apq_cache_bytes": 0,
    "max_batch_operations": 0,
    "max_subscriptions": 0,
    "max_subscriptions_per_connection": 1,
    "subscription_heartbeat": 0.1,
    "webhook_tolerance": 1,
    "webhook_queue": 1,
    "timeout": 0.001,
    "connect_timeout": 0.001,
    "retries": 0,
    "rate_limit": 0,
    "rate_period": 0.001,
    "rate_burst": 1,
    "breaker_threshold": 1,
    "breaker_cooldown": 0,
    "cache_ttl": 0,
    "concurrency": 1,
    "lock_ttl": 0.1,
    "apq_ttl": 1,
    "retry_interval": 0.01,
}


#: Integer settings whose default is None (unset).
_WHOLE_OR_NONE = frozenset({"rate_limit", "rate_burst", "metrics_port"})
#: Largest value of a numeric setting, where there is one.
_MAXIMUMS: dict[str, float] = {"metrics_port": 65535}


def _apply(where: str, section: dict[str, Any], defaults: Any, skip: set[str]) -> dict[str, Any]:
    """Validate the plain settings of ``section`` against the types of ``defaults``' fields."""
    known = {f.name for f in fields(defaults)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key in skip:
            continue
        if key not in known:
            raise ConfigError(f"unknown key {where}.{key}")
        current = getattr(defaults, key)
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}.{key} must be true or false")
        elif isinstance(current, str):
            if not isinstance(value, str):
                raise ConfigError(f"{where}.{key} must be a string")
        elif key in _MINIMUMS:
            whole = isinstance(current, int) or key in _WHOLE_OR_NONE
            kind = "an integer" if whole else "a number"
            valid = isinstance(value, int) if whole else isinstance(value, int | float)
            if (
                isinstance(value, bool)
                or not valid
                or not value >= _MINIMUMS[key]
                or (isinstance(value, float) and not math.isfinite(value))
            ):
                raise ConfigError(f"{where}.{key} must be {kind} >= {_MINIMUMS[key]:g}")
            if key in _MAXIMUMS and value > _MAXIMUMS[key]:
                raise ConfigError(f"{where}.{key} must be at most {_MAXIMUMS[key]:g}")
            value = value if whole else float(value)
        if key == "rate_limit" and value == 0:
            value = None  # 0 turns the client-side rate limit off
        values[key] = value
    return values


_REDIS_SCHEMES = ("redis", "rediss", "unix")


def _parse_redis(section: dict[str, Any], environ: Mapping[str, str]) -> RedisSettings:
    """The ``[redis]`` section; the URL is ``${VAR}``-interpolated and never shown."""
    defaults = RedisSettings()
    values = _apply("redis", section, defaults, set())
    url = values.get("url", "")
    if url:
        url = _interpolate("redis.url", url, environ).strip()
        parts = urlsplit(url)
        if parts.scheme not in _REDIS_SCHEMES or not (parts.netloc or parts.path):
            # The value may hold a password: name its scheme only.
            raise ConfigError(
                f"redis.url must be a redis://, rediss:// or unix:// URL (got {parts.scheme!r})"
            )
        try:
            parts.port  # noqa: B018  # raises ValueError for a port that is not a number
        except ValueError:
            raise ConfigError("redis.url has a port that is not a number") from None
        values["url"] = url
    prefix = values.get("key_prefix", defaults.key_prefix)
    if not prefix or any(c.isspace() for c in prefix):
        raise ConfigError("redis.key_prefix must be a non-empty word without spaces")
    return replace(defaults, **values)


def _parse_server(section: dict[str, Any], environ: Mapping[str, str]) -> ServerSettings:
    defaults = ServerSettings()
    skip = {"api_keys", "metrics_api_keys", "cors_origins", "workers"}
    values = _apply("server", section, defaults, skip)
    if "workers" in section:
        values["workers"] = _workers(section["workers"])
    for key, allowed in _CHOICES.items():
        if key in values and values[key] not in allowed:
            raise ConfigError(f"server.{key} must be one of {', '.join(allowed)}")
    resolved = _keys(section, "api_keys", environ)
    metrics_keys = _keys(section, "metrics_api_keys", environ)
    origins = section.get("cors_origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise ConfigError("server.cors_origins must be a list of origins")
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ConfigError(f"server.cors_origins: {origin!r} is not an origin (scheme://host)")
    return replace(
        defaults,
        **values,
        api_keys=resolved,
        metrics_api_keys=metrics_keys,
        cors_origins=tuple(origins),
    )


#: The most worker processes ``[server] workers`` may ask for.
MAX_WORKERS = 64


def cores() -> int:
    """The cores this process may run on (what ``workers = "auto"`` starts)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _workers(value: Any) -> int:
    if value == "auto":
        return min(cores(), MAX_WORKERS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKERS:
        raise ConfigError(f'server.workers must be "auto" or an integer from 1 to {MAX_WORKERS}')
    return value


def _check_workers(settings: Settings) -> None:
    """What several workers cannot share without Redis: refused with workers > 1."""
    if settings.server.workers == 1:
        return
    if settings.server.metrics_port is not None:
        raise ConfigError(
            "server.metrics_port needs workers = 1: each worker counts its own metrics "
            "(/metrics on the main port shows the worker that answers)"
        )
    if settings.redis.enabled:
        return  # tokens and events go through Redis: every worker shares them
    for provider, section in settings.providers.items():
        if section.refresh_token:
            raise ConfigError(
                f"providers.{provider.value}.refresh_token needs server.workers = 1 or "
                "[redis]: each worker would renew the token on its own, and HubSpot may rotate it"
            )
        if section.webhook_secret:
            raise ConfigError(
                f"providers.{provider.value}.webhook_secret needs server.workers = 1 or "
                "[redis]: a webhook reaches one worker, and only its subscribers and cache "
                "would see it"
            )


def _keys(section: dict[str, Any], key: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    """A list of API keys, each ``${VAR}``-interpolated and none empty."""
    keys = section.get(key, [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConfigError(f"server.{key} must be a list of strings")
    resolved = tuple(_interpolate(f"server.{key}", k, environ) for k in keys)
    if any(not k for k in resolved):
        raise ConfigError(f"server.{key} must not contain an empty key")
    return resolved


def _parse_provider(
    provider: Provider, section: dict[str, Any], environ: Mapping[str, str]
) -> ProviderSettings:
    where = f"providers.{provider.value}"
    if "base_url" not in section:
        raise ConfigError(f"{where}.base_url is required")
    if not isinstance(section["base_url"], str):
        raise ConfigError(f"{where}.base_url must be a string")
    base_url = _interpolate(f"{where}.base_url", section["base_url"], environ).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}.base_url must be an http(s) URL, got {base_url!r}")
    credentials = _parse_credentials(provider, where, section, environ)
    defaults = provider_settings(provider, base_url, credentials.pop("token", ""))
    defaults = replace(defaults, **credentials)
    skip = {"base_url", "organization_id", "webhook_secret", "webhook_url", *_CREDENTIAL_KEYS}
    if provider is not Provider.HEYPEERS and "organization_id" in section:
        raise ConfigError(f"unknown key {where}.organization_id")
    values = _apply(where, section, defaults, skip)
    values.update(_webhook_settings(provider, where, section, environ))
    limit, burst = values.get("rate_limit", defaults.rate_limit), values.get("rate_burst")
    if burst is not None and limit is not None and burst > limit:
        raise ConfigError(f"{where}.rate_burst must not exceed rate_limit ({limit})")
    if provider is Provider.HEYPEERS:
        organization_id = section.get("organization_id")
        if isinstance(organization_id, str):
            organization_id = _interpolate(f"{where}.organization_id", organization_id, environ)
            organization_id = int(organization_id) if organization_id.isdigit() else None
        if not isinstance(organization_id, int) or isinstance(organization_id, bool):
            raise ConfigError(f"{where}.organization_id is required and must be an integer")
        values["organization_id"] = organization_id
    return replace(defaults, **values)


#: Providers whose documentation describes signed webhooks the gateway receives.
WEBHOOK_PROVIDERS = (Provider.DAILY, Provider.HUBSPOT)


def _webhook_settings(
    provider: Provider, where: str, section: dict[str, Any], environ: Mapping[str, str]
) -> dict[str, str]:
    """``webhook_secret`` (and HubSpot's ``webhook_url``), checked; the secret is never shown."""
    values: dict[str, str] = {}
    for key in ("webhook_secret", "webhook_url"):
        if key not in section:
            continue
        if provider not in WEBHOOK_PROVIDERS or (
            key == "webhook_url" and provider is not Provider.HUBSPOT
        ):
            raise ConfigError(f"unknown key {where}.{key}")
        if not isinstance(section[key], str):
            raise ConfigError(f"{where}.{key} must be a string")
        values[key] = _interpolate(f"{where}.{key}", section[key], environ)
    secret = values.get("webhook_secret", "")
    if secret != secret.strip():
        raise ConfigError(f"{where}.webhook_secret has surrounding white space")
    if provider is Provider.DAILY and secret:
        try:
            base64.b64decode(secret, validate=True)
        except binascii.Error:
            raise ConfigError(
                f"{where}.webhook_secret must be the base64 hmac Daily returned"
            ) from None
    url = values.get("webhook_url", "")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{where}.webhook_url must be an http(s) URL, got {url!r}")
    return values


#: The credential forms: each provider takes exactly one of those it has.
_OAUTH_KEYS = ("client_id", "client_secret", "refresh_token")
_CREDENTIAL_KEYS = ("token", "access_key", *_OAUTH_KEYS)
_FORMS: dict[Provider, tuple[tuple[str, ...], ...]] = {
    Provider.HEYPEERS: (("token",), ("access_key",)),
    Provider.HUBSPOT: (("token",), _OAUTH_KEYS),
}


def _parse_credentials(
    provider: Provider, where: str, section: dict[str, Any], environ: Mapping[str, str]
) -> dict[str, Any]:
    """The one credential form a provider section gives (a static token by default)."""
    forms = _FORMS.get(provider, (("token",),))
    allowed = {key for form in forms for key in form}
    for key in _CREDENTIAL_KEYS:
        if key in section and key not in allowed:
            raise ConfigError(f"unknown key {where}.{key}")
    given = [form for form in forms if any(key in section for key in form)]
    if not given:
        others = " or ".join(" + ".join(form) for form in forms[1:])
        raise ConfigError(f"{where}.token is required" + (f" (or {others})" if others else ""))
    if len(given) > 1:
        first, second = given[0][0], next(k for k in given[1] if k in section)
        raise ConfigError(f"{where}.{second}: give {first} or {second}, not both")
    values: dict[str, Any] = {}
    for key in given[0]:
        if key not in section:
            others = ", ".join(k for k in given[0] if k != key)
            raise ConfigError(f"{where}.{key} is required with {others}")
        if not isinstance(section[key], str):
            raise ConfigError(f"{where}.{key} must be a string")
        value = _interpolate(f"{where}.{key}", section[key], environ)
        if not value.strip() or value != value.strip():
            raise ConfigError(f"{where}.{key} is empty or has surrounding white space")
        values[key] = value
    return values


def _interpolate(key: str, value: str, environ: Mapping[str, str]) -> str:
    def replace_variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{key} refers to ${{{name}}}, which is not set in the environment")
        return environ[name]

    return _VARIABLE.sub(replace_variable, value)
