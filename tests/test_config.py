"""Configuration: the TOML contract, ``${VAR}`` interpolation and one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meetingmesh.config import ConfigError, cores, load_settings
from meetingmesh.domain import Provider

FULL = """
[server]
graphiql = false
api_keys = ["${MM_KEY}"]

[providers.heypeers]
base_url = "https://heypeers.com"
organization_id = 5
token = "${HEYPEERS_TOKEN}"

[providers.thoughtindustries]
base_url = "https://example.thoughtindustries.com/"
token = "${TI_TOKEN}"

[providers.hubspot]
base_url = "https://api.hubapi.com"
token = "literal-token"

[providers.daily]
base_url = "https://api.daily.co/v1"
token = "${DAILY_TOKEN}"
timeout = 2.5
"""
ENV = {
    "MM_KEY": "api-key-7f3a",
    "HEYPEERS_TOKEN": "heypeers-secret-1b2c",
    "TI_TOKEN": "ti-secret-9d8e",
    "DAILY_TOKEN": "daily-secret-4f5a",
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "meetingmesh.toml"
    path.write_text(text)
    return path


def test_full_contract_file_loads_with_interpolated_secrets(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, FULL), ENV)
    assert settings.server.graphiql is False
    assert settings.server.api_keys == ("api-key-7f3a",)
    assert set(settings.providers) == set(Provider)
    assert settings.providers[Provider.HEYPEERS].organization_id == 5
    assert settings.providers[Provider.HEYPEERS].token == "heypeers-secret-1b2c"
    assert settings.providers[Provider.DAILY].timeout == 2.5
    assert settings.providers[Provider.THOUGHT_INDUSTRIES].base_url == (
        "https://example.thoughtindustries.com"
    )


def test_a_provider_without_a_section_is_off(tmp_path: Path) -> None:
    text = '[providers.daily]\nbase_url = "https://api.daily.co/v1"\ntoken = "t"\n'
    settings = load_settings(_write(tmp_path, text), {})
    assert list(settings.providers) == [Provider.DAILY]


def test_missing_variable_names_it_and_the_key(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "TI_TOKEN"}
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, FULL), env)
    assert str(caught.value) == (
        "providers.thoughtindustries.token refers to ${TI_TOKEN}, "
        "which is not set in the environment"
    )


def test_unknown_provider_is_named(tmp_path: Path) -> None:
    text = '[providers.zoom]\nbase_url = "https://api.zoom.us"\ntoken = "t"\n'
    with pytest.raises(ConfigError, match=r"unknown provider \[providers.zoom\]"):
        load_settings(_write(tmp_path, text), {})


@pytest.mark.parametrize("url", ["api.daily.co/v1", "ftp://api.daily.co", "https://"])
def test_bad_url_is_named(tmp_path: Path, url: str) -> None:
    text = f'[providers.daily]\nbase_url = "{url}"\ntoken = "t"\n'
    with pytest.raises(ConfigError, match=r"providers.daily.base_url must be an http\(s\) URL"):
        load_settings(_write(tmp_path, text), {})


def test_heypeers_needs_an_organization(tmp_path: Path) -> None:
    text = '[providers.heypeers]\nbase_url = "https://heypeers.com"\ntoken = "t"\n'
    with pytest.raises(ConfigError, match=r"providers\.heypeers\.organization_id is required"):
        load_settings(_write(tmp_path, text), {})


def test_unknown_key_and_invalid_toml_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key server\.graphql"):
        load_settings(_write(tmp_path, "[server]\ngraphql = true\n"), {})
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(_write(tmp_path, "[server\n"), {})


def test_tokens_never_appear_in_repr(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, FULL), ENV)
    text = repr(settings)
    assert all(secret not in text for secret in settings.secrets())


def test_resilience_settings_have_provider_defaults_and_can_be_changed(tmp_path: Path) -> None:
    text = (
        '[providers.daily]\nbase_url = "https://api.daily.co/v1"\ntoken = "t"\n'
        "retries = 0\nbreaker_threshold = 3\n"
        '[providers.hubspot]\nbase_url = "https://api.hubapi.com"\ntoken = "t"\nrate_limit = 0\n'
        '[providers.thoughtindustries]\nbase_url = "https://x.thoughtindustries.com"\ntoken = "t"\n'
    )
    settings = load_settings(_write(tmp_path, text), {})
    daily = settings.providers[Provider.DAILY]
    assert (daily.retries, daily.breaker_threshold) == (0, 3)
    # Daily publishes 20 a second and 100 per 5 seconds: the burst and the limit.
    assert (daily.rate_limit, daily.rate_period, daily.rate_burst) == (100, 5.0, 20)
    assert settings.providers[Provider.HUBSPOT].rate_limit is None
    ti = settings.providers[Provider.THOUGHT_INDUSTRIES]
    assert (ti.rate_limit, ti.rate_period) == (120, 60.0)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("retries = -1", r"providers\.daily\.retries must be an integer >= 0"),
        ("timeout = 0", r"providers\.daily\.timeout must be a number >= 0\.001"),
        ("rate_limit = 1.5", r"providers\.daily\.rate_limit must be an integer >= 0"),
        ('concurrency = "8"', r"providers\.daily\.concurrency must be an integer >= 1"),
    ],
)
def test_bad_provider_numbers_are_named(tmp_path: Path, line: str, message: str) -> None:
    text = f'[providers.daily]\nbase_url = "https://api.daily.co/v1"\ntoken = "t"\n{line}\n'
    with pytest.raises(ConfigError, match=message):
        load_settings(_write(tmp_path, text), {})


def test_server_limits_and_cors_origins_are_validated(tmp_path: Path) -> None:
    good = '[server]\nmax_depth = 8\ndeadline = 2.5\ncors_origins = ["https://app.example.com"]\n'
    server = load_settings(_write(tmp_path, good), {}).server
    assert (server.max_depth, server.deadline) == (8, 2.5)
    assert server.cors_origins == ("https://app.example.com",)
    with pytest.raises(ConfigError, match=r"server\.cors_origins: 'app\.example\.com'"):
        load_settings(_write(tmp_path, '[server]\ncors_origins = ["app.example.com"]\n'), {})
    with pytest.raises(ConfigError, match=r"server\.max_cost must be an integer >= 1"):
        load_settings(_write(tmp_path, "[server]\nmax_cost = 0\n"), {})


def test_connection_limits_are_read_and_validated(tmp_path: Path) -> None:
    good = (
        "[server]\nkeep_alive_timeout = 2\nheader_timeout = 4.5\nbody_timeout = 20\n"
        "max_header_bytes = 8192\nmax_connections = 100\n"
    )
    server = load_settings(_write(tmp_path, good), {}).server
    assert (server.keep_alive_timeout, server.header_timeout, server.body_timeout) == (2, 4.5, 20)
    assert (server.max_header_bytes, server.max_connections) == (8192, 100)
    for line, message in (
        ("keep_alive_timeout = 0.5", r"server\.keep_alive_timeout must be an integer >= 1"),
        ("header_timeout = 0", r"server\.header_timeout must be a number >= 0\.001"),
        ("max_header_bytes = 100", r"server\.max_header_bytes must be an integer >= 1024"),
        ("max_connections = 0", r"server\.max_connections must be an integer >= 1"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_settings(_write(tmp_path, f"[server]\n{line}\n"), {})


def test_metrics_port_and_keys_are_read_and_validated(tmp_path: Path) -> None:
    good = '[server]\nmetrics_port = 9464\nmetrics_api_keys = ["${SCRAPER_KEY}"]\n'
    settings = load_settings(_write(tmp_path, good), {"SCRAPER_KEY": "scrape-3f9a"})
    assert settings.server.metrics_port == 9464
    assert settings.server.metrics_api_keys == ("scrape-3f9a",)
    assert "scrape-3f9a" in settings.secrets()
    assert "scrape-3f9a" not in repr(settings)
    with pytest.raises(ConfigError, match=r"server\.metrics_port must be at most 65535"):
        load_settings(_write(tmp_path, "[server]\nmetrics_port = 70000\n"), {})
    with pytest.raises(ConfigError, match=r"server\.metrics_api_keys must be a list of strings"):
        load_settings(_write(tmp_path, '[server]\nmetrics_api_keys = "k"\n'), {})


WEBHOOKS = """
[server]
webhook_tolerance = 120
max_subscriptions = 500
subscription_heartbeat = 5

[providers.hubspot]
base_url = "https://api.hubapi.com"
token = "literal-token"
webhook_secret = "${HUBSPOT_CLIENT_SECRET}"
webhook_url = "https://gw.example.com/webhooks/hubspot"

[providers.daily]
base_url = "https://api.daily.co/v1"
token = "${DAILY_TOKEN}"
webhook_secret = "${DAILY_WEBHOOK_SECRET}"
"""
WEBHOOK_ENV = {
    "DAILY_TOKEN": "daily-secret-4f5a",
    "DAILY_WEBHOOK_SECRET": "c2VjcmV0LWRhaWx5LWhtYWMta2V5LTAwMDAwMDAwMDA=",
    "HUBSPOT_CLIENT_SECRET": "hubspot-client-secret-77",
}


def test_webhook_secrets_are_secrets_and_the_bounds_are_settings(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, WEBHOOKS), WEBHOOK_ENV)
    daily = settings.providers[Provider.DAILY]
    hubspot = settings.providers[Provider.HUBSPOT]
    assert daily.webhook_secret == WEBHOOK_ENV["DAILY_WEBHOOK_SECRET"]
    assert hubspot.webhook_url == "https://gw.example.com/webhooks/hubspot"
    assert (settings.server.webhook_tolerance, settings.server.max_subscriptions) == (120, 500)
    assert settings.server.subscription_heartbeat == 5
    assert set(WEBHOOK_ENV.values()) <= set(settings.secrets())
    assert WEBHOOK_ENV["DAILY_WEBHOOK_SECRET"] not in repr(settings)
    assert WEBHOOK_ENV["HUBSPOT_CLIENT_SECRET"] not in repr(settings)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            ("${DAILY_WEBHOOK_SECRET}", "not base64!"),
            "providers.daily.webhook_secret must be the base64",
        ),
        (
            ('webhook_url = "https://gw.example.com', 'webhook_url = "ftp://gw.example.com'),
            "providers.hubspot.webhook_url must be an http(s) URL",
        ),
        (("max_subscriptions = 500", "max_subscriptions = -1"), "server.max_subscriptions must be"),
    ],
)
def test_bad_webhook_settings_are_named(
    tmp_path: Path, replace: tuple[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(_write(tmp_path, WEBHOOKS.replace(*replace)), WEBHOOK_ENV)


def test_only_providers_with_documented_webhooks_take_a_secret(tmp_path: Path) -> None:
    text = FULL.replace("organization_id = 5", 'organization_id = 5\nwebhook_secret = "x"')
    with pytest.raises(
        ConfigError, match=re.escape("unknown key providers.heypeers.webhook_secret")
    ):
        load_settings(_write(tmp_path, text), ENV)
    text = WEBHOOKS.replace(
        'webhook_secret = "${DAILY', 'webhook_url = "https://x.io"\nwebhook_secret = "${DAILY'
    )
    with pytest.raises(ConfigError, match=re.escape("unknown key providers.daily.webhook_url")):
        load_settings(_write(tmp_path, text), WEBHOOK_ENV)


RENEWING = """
[providers.heypeers]
base_url = "https://heypeers.com/api/v2"
organization_id = 5
access_key = "${HEYPEERS_ACCESS_KEY}"

[providers.hubspot]
base_url = "https://api.hubapi.com"
client_id = "app-client-id"
client_secret = "${HUBSPOT_CLIENT_SECRET}"
refresh_token = "${HUBSPOT_REFRESH_TOKEN}"
"""
RENEWING_ENV = {
    "HEYPEERS_ACCESS_KEY": "access-key-3c4d5e6f7a8b",
    "HUBSPOT_CLIENT_SECRET": "client-secret-0a1b",
    "HUBSPOT_REFRESH_TOKEN": "refresh-token-2c3d",
}


def test_renewing_credentials_load_instead_of_tokens(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, RENEWING), RENEWING_ENV)
    heypeers = settings.providers[Provider.HEYPEERS]
    assert (heypeers.access_key, heypeers.token) == ("access-key-3c4d5e6f7a8b", "")
    assert heypeers.credential_form == "access key"
    hubspot = settings.providers[Provider.HUBSPOT]
    assert (hubspot.client_id, hubspot.client_secret, hubspot.refresh_token) == (
        "app-client-id",
        "client-secret-0a1b",
        "refresh-token-2c3d",
    )
    assert hubspot.credential_form == "OAuth app"


def test_every_renewing_secret_is_a_secret_and_never_in_repr(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, RENEWING), RENEWING_ENV)
    assert set(settings.secrets()) == set(RENEWING_ENV.values())
    assert all(secret not in repr(settings) for secret in RENEWING_ENV.values())


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            'base_url = "https://heypeers.com"\norganization_id = 5\ntoken = "t"\n'
            'access_key = "k"\n',
            r"^providers\.heypeers\.access_key: give token or access_key, not both$",
        ),
        (
            'base_url = "https://heypeers.com"\norganization_id = 5\n',
            r"^providers\.heypeers\.token is required \(or access_key\)$",
        ),
        (
            'base_url = "https://heypeers.com"\norganization_id = 5\naccess_key = " k"\n',
            r"^providers\.heypeers\.access_key is empty or has surrounding white space$",
        ),
    ],
)
def test_heypeers_takes_exactly_one_credential_form(
    tmp_path: Path, section: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(_write(tmp_path, f"[providers.heypeers]\n{section}"), {})


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            'token = "t"\nclient_id = "c"\nclient_secret = "s"\nrefresh_token = "r"\n',
            r"^providers\.hubspot\.client_id: give token or client_id, not both$",
        ),
        (
            'client_id = "c"\nrefresh_token = "r"\n',
            r"^providers\.hubspot\.client_secret is required with client_id, refresh_token$",
        ),
        ("", r"^providers\.hubspot\.token is required \(or client_id \+ client_secret \+ "),
    ],
)
def test_hubspot_takes_a_token_or_a_whole_oauth_app(
    tmp_path: Path, lines: str, message: str
) -> None:
    text = f'[providers.hubspot]\nbase_url = "https://api.hubapi.com"\n{lines}'
    with pytest.raises(ConfigError, match=message):
        load_settings(_write(tmp_path, text), {})


@pytest.mark.parametrize("key", ["access_key", "client_secret"])
def test_a_credential_form_of_another_provider_is_an_unknown_key(tmp_path: Path, key: str) -> None:
    text = f'[providers.daily]\nbase_url = "https://api.daily.co/v1"\n{key} = "x"\n'
    with pytest.raises(ConfigError, match=rf"^unknown key providers\.daily\.{key}$"):
        load_settings(_write(tmp_path, text), {})


def test_thought_industries_bursts_twenty_and_a_burst_fits_within_the_limit(
    tmp_path: Path,
) -> None:
    ti = (
        '[providers.thoughtindustries]\nbase_url = "https://x.thoughtindustries.com"\ntoken = "t"\n'
    )
    settings = load_settings(_write(tmp_path, ti), {})
    assert settings.providers[Provider.THOUGHT_INDUSTRIES].rate_burst == 20
    with pytest.raises(ConfigError, match=r"rate_burst must not exceed rate_limit \(120\)"):
        load_settings(_write(tmp_path, ti + "rate_burst = 121\n"), {})
    with pytest.raises(ConfigError, match=r"providers\.thoughtindustries\.rate_burst must be an"):
        load_settings(_write(tmp_path, ti + "rate_burst = 0\n"), {})


def test_redis_is_off_without_a_section_and_its_url_reads_the_environment(
    tmp_path: Path,
) -> None:
    assert not load_settings(_write(tmp_path, ""), {}).redis.enabled
    text = '[redis]\nurl = "${REDIS_URL}"\nlock_ttl = 2\n'
    url = "redis://:pa%40ss@cache.internal:6380/1"
    redis = load_settings(_write(tmp_path, text), {"REDIS_URL": url}).redis
    assert (redis.url, redis.lock_ttl, redis.key_prefix) == (url, 2.0, "meetingmesh")
    # The password is a secret (plain and decoded); where Redis is, is not.
    assert {"pa%40ss", "pa@ss", url} <= set(redis.secrets())
    assert redis.describe() == "redis://cache.internal:6380/1"
    assert "pa%40ss" not in repr(redis)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'url = "http://:secret@cache:6379"',
            r"^redis\.url must be a redis://, rediss:// or unix://",
        ),
        ('url = "redis://cache:port"', r"^redis\.url has a port that is not a number$"),
        ("timeout = 0", r"^redis\.timeout must be a number >= 0\.001$"),
        ('key_prefix = "a b"', r"^redis\.key_prefix must be a non-empty word"),
        ("database = 1", r"^unknown key redis\.database$"),
    ],
)
def test_a_bad_redis_setting_names_itself_and_never_the_password(
    tmp_path: Path, line: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(_write(tmp_path, f"[redis]\n{line}\n"), {})
    assert "secret" not in str(raised.value)


def test_workers_are_one_by_default_a_number_or_one_per_core(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, "[server]\n"), {}).server.workers == 1
    assert load_settings(_write(tmp_path, "[server]\nworkers = 3\n"), {}).server.workers == 3
    auto = load_settings(_write(tmp_path, '[server]\nworkers = "auto"\n'), {}).server.workers
    assert auto == cores() >= 1
    for bad in ("0", "65", '"many"', "true", "1.5"):
        with pytest.raises(ConfigError, match=r"server\.workers must be \"auto\" or an integer"):
            load_settings(_write(tmp_path, f"[server]\nworkers = {bad}\n"), {})


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("[server]\nmetrics_port = 9464\n", r"server\.metrics_port needs workers = 1"),
        (WEBHOOKS.replace("[server]\n", ""), r"webhook_secret needs server\.workers = 1"),
        (
            '[providers.hubspot]\nbase_url = "https://api.hubapi.com"\nclient_id = "app"\n'
            'client_secret = "cs-1"\nrefresh_token = "rt-1"\n',
            r"providers\.hubspot\.refresh_token needs server\.workers = 1",
        ),
    ],
    ids=["metrics-port", "webhooks", "hubspot-oauth"],
)
def test_what_one_process_holds_alone_is_refused_with_several_workers(
    tmp_path: Path, extra: str, named: str
) -> None:
    text = extra if extra.startswith("[server]") else "[server]\n" + extra
    text = text.replace("[server]\n", "[server]\nworkers = 2\n", 1)
    with pytest.raises(ConfigError, match=named):
        load_settings(_write(tmp_path, text), WEBHOOK_ENV)


def test_with_redis_several_workers_share_tokens_and_events(tmp_path: Path) -> None:
    text = WEBHOOKS.replace("[server]\n", "[server]\nworkers = 2\n", 1)
    text += '\n[redis]\nurl = "redis://cache.internal:6379/0"\n'
    assert load_settings(_write(tmp_path, text), WEBHOOK_ENV).server.workers == 2
