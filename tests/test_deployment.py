"""The deployment files are well formed and describe what the README says.

No Docker engine runs here: the Dockerfile is read with ``dockerfile-parse`` and the
compose file as YAML, and the image's configuration file is loaded by the gateway's own
settings code with the environment the compose file gives it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

from meetingmesh.config import load_settings
from meetingmesh.domain import Provider

ROOT = Path(__file__).resolve().parent.parent
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def compose() -> dict[str, Any]:
    """docker-compose.yml, parsed."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def dockerfile() -> DockerfileParser:
    """The Dockerfile, parsed (no daemon involved)."""
    parser = DockerfileParser(fileobj=(ROOT / "Dockerfile").open("rb"))
    return parser


def _defaults(value: str) -> str:
    """A compose value with every ``${VAR:-default}`` replaced by its default (no .env)."""
    return _VARIABLE.sub(lambda m: m.group(2) or "", value)


def test_the_image_is_slim_installs_the_wheel_and_runs_as_a_user() -> None:
    parsed = dockerfile()
    stages = [i for i in parsed.structure if i["instruction"] == "FROM"]
    assert len(stages) == 2 and all("python:3.11-slim" in s["value"] for s in stages)
    split = parsed.structure.index(stages[-1])
    build, final = parsed.structure[:split], parsed.structure[split:]
    assert any(i["instruction"] == "RUN" and "pip wheel" in i["value"] for i in build)
    steps = {i["instruction"]: i["value"] for i in final}
    assert "pip install" in steps["RUN"] and ".whl" in steps["RUN"]
    assert steps["USER"] == "meetingmesh" and "useradd --system" in steps["RUN"]
    assert "/healthz" in steps["HEALTHCHECK"]
    assert "serve" in steps["CMD"] and steps["ENTRYPOINT"] == '["meetingmesh"]'
    copied = [i["value"].split()[0] for i in final if i["instruction"] == "COPY"]
    assert all((ROOT / source).exists() for source in copied if not source.startswith("--"))


def test_compose_runs_three_gateways_behind_a_balancer_with_redis_and_the_simulators() -> None:
    services = compose()["services"]
    assert set(services) == {"gateway", "loadbalancer", "redis", "simulators"}
    assert services["gateway"]["deploy"]["replicas"] == 3
    assert services["gateway"]["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "simulators": {"condition": "service_healthy"},
    }
    for name, service in services.items():
        check = service["healthcheck"]["test"]
        assert check[0] in ("CMD", "CMD-SHELL"), name
    assert "/healthz" in " ".join(services["gateway"]["healthcheck"]["test"])
    mounted = services["loadbalancer"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).is_file()
    assert "--requirepass" in services["redis"]["command"]


def test_every_secret_in_compose_comes_from_the_environment() -> None:
    environment = compose()["services"]["gateway"]["environment"]
    secret = ("KEY", "TOKEN", "SECRET", "PASSWORD", "REDIS_URL")
    for name, value in environment.items():
        if any(word in name for word in secret):
            assert "${" in value, f"{name} is written into the file"


def test_the_image_configuration_loads_with_the_compose_environment() -> None:
    environment = {
        name: _defaults(str(value))
        for name, value in compose()["services"]["gateway"]["environment"].items()
    }
    settings = load_settings(ROOT / "deploy" / "meetingmesh.toml", environment)
    assert settings.redis.describe() == "redis://redis:6379/0"
    assert set(settings.providers) == set(Provider)
    assert settings.providers[Provider.HEYPEERS].credential_form == "access key"
    assert settings.providers[Provider.HUBSPOT].credential_form == "OAuth app"
    assert settings.server.api_keys and settings.server.metrics_api_keys
