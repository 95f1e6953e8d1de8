"""The ``meetingmesh`` command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from meetingmesh.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_export_schema_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-schema"]) == 0
    assert capsys.readouterr().out == (ROOT / "schema.graphql").read_text()


def test_check_config_accepts_a_valid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILY_TOKEN", "secret-daily-token")
    path = tmp_path / "ok.toml"
    path.write_text(
        '[providers.daily]\nbase_url = "https://api.daily.co/v1"\ntoken = "${DAILY_TOKEN}"\n'
    )
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == f"{path}: OK (providers: Daily (token))\n"
    assert "secret-daily-token" not in out


def test_check_config_reports_one_line_and_exit_code_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[providers.daily]\nbase_url = "https://api.daily.co/v1"\ntoken = "${NOPE_X}"\n'
    )
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "providers.daily.token refers to ${NOPE_X}" in err
    assert "Traceback" not in err


def test_check_config_names_each_credential_form_but_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HP_KEY", "hp-access-key-secret")
    monkeypatch.setenv("HS_SECRET", "hs-client-secret")
    path = tmp_path / "ok.toml"
    path.write_text(
        '[providers.heypeers]\nbase_url = "https://heypeers.com"\norganization_id = 5\n'
        'access_key = "${HP_KEY}"\n'
        '[providers.hubspot]\nbase_url = "https://api.hubapi.com"\nclient_id = "cid"\n'
        'client_secret = "${HS_SECRET}"\nrefresh_token = "hs-refresh-secret"\n'
    )
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == f"{path}: OK (providers: HeyPeers (access key), HubSpot (OAuth app))\n"


def test_check_config_says_where_redis_is_but_not_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:redis-password-secret@cache.internal:6379/0")
    path = tmp_path / "ok.toml"
    path.write_text('[redis]\nurl = "${REDIS_URL}"\n')
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        out
        == f"{path}: OK (providers: no providers; shared state: redis://cache.internal:6379/0)\n"
    )
