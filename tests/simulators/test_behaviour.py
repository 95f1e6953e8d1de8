"""Behaviour switches: typed settings, their control API and their command-line form."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.simulators.behaviour import BehaviourSettingsError, from_mapping, parse_text
from meetingmesh.simulators.daily import DailyBehaviour
from meetingmesh.simulators.heypeers import HeyPeersBehaviour
from meetingmesh.simulators.server import BEHAVIOURS, MOUNTS, TOKENS, create_simulators

Serve = Callable[[ASGIApp], str]


def test_a_mapping_sets_the_named_switches_and_keeps_the_other_defaults() -> None:
    behaviour = from_mapping(DailyBehaviour, {"participant_order": "newest_first"})
    assert behaviour == DailyBehaviour(participant_order="newest_first")


@pytest.mark.parametrize(
    "values",
    [
        {"participant_order": "sideways"},
        {"float_times": "yes"},
        {"float_times": 1},
        {"no_such_switch": True},
        {"bad_row_id": 5},
    ],
)
def test_a_mapping_with_an_unknown_name_or_a_wrong_value_is_refused(
    values: dict[str, object],
) -> None:
    with pytest.raises(BehaviourSettingsError):
        from_mapping(DailyBehaviour, values)


def test_a_switch_s_own_rule_is_checked_too() -> None:
    with pytest.raises(BehaviourSettingsError, match="organization_time_zone"):
        from_mapping(HeyPeersBehaviour, {"organization_time_zone": "Mars/Olympus"})


def test_command_line_text_becomes_the_switch_s_type() -> None:
    assert parse_text(DailyBehaviour, "float_times", "true") is True
    assert parse_text(HeyPeersBehaviour, "token_lifetime_seconds", "30") == 30
    assert parse_text(DailyBehaviour, "tie_order", "id_asc") == "id_asc"


def test_every_simulator_shows_its_default_switches(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app)
    for provider, mount in MOUNTS.items():
        shown = httpx.get(f"{url}{mount}/_sim/behaviour").json()
        assert shown == BEHAVIOURS[provider]().__dict__


def test_put_sets_switches_get_shows_them_and_delete_resets(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS["daily"]
    put = httpx.put(f"{url}/_sim/behaviour", json={"float_times": True, "tie_order": "id_asc"})
    assert put.status_code == 200
    assert httpx.get(f"{url}/_sim/behaviour").json()["tie_order"] == "id_asc"
    assert httpx.delete(f"{url}/_sim/behaviour").json() == DailyBehaviour().__dict__


def test_put_replaces_every_switch_it_does_not_name_with_its_default(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS["daily"]
    default = DailyBehaviour().float_times
    httpx.put(f"{url}/_sim/behaviour", json={"float_times": not default})
    shown = httpx.put(f"{url}/_sim/behaviour", json={"tie_order": "id_asc"}).json()
    assert shown["float_times"] is default


def test_a_bad_put_is_a_400_and_changes_nothing(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS["daily"]
    httpx.put(f"{url}/_sim/behaviour", json={"float_times": True})
    refused = httpx.put(f"{url}/_sim/behaviour", json={"participant_order": "sideways"})
    assert refused.status_code == 400
    assert "participant_order" in refused.json()["error"]
    assert httpx.get(f"{url}/_sim/behaviour").json()["float_times"] is True


def test_the_behaviour_route_is_neither_counted_nor_authenticated(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app)
    httpx.put(f"{url}{MOUNTS['hubspot']}/_sim/behaviour", json={})
    assert httpx.get(f"{url}/_sim/stats").json()["hubspot"]["total"] == 0


def test_behaviour_given_at_start_is_served(serve: Serve) -> None:
    sims = create_simulators(size=24, behaviour={"daily": DailyBehaviour(float_times=True)})
    url = serve(sims.app)
    assert httpx.get(f"{url}{MOUNTS['daily']}/_sim/behaviour").json()["float_times"] is True


def test_behaviour_of_the_wrong_provider_is_refused_at_start() -> None:
    with pytest.raises(TypeError):
        create_simulators(size=24, behaviour={"hubspot": DailyBehaviour()})


def test_reset_puts_every_switch_back(serve: Serve) -> None:
    sims = create_simulators(size=24, behaviour={"daily": DailyBehaviour(float_times=True)})
    sims.reset()
    assert sims.harnesses["daily"].behaviour == DailyBehaviour()


#: A request each simulator refuses for its credentials, relative to its base URL.
REFUSED = {
    "heypeers": "/api/v2/organizations/5/export_meetings",
    "thoughtindustries": "/incoming/v2/meetings",
    "hubspot": "/scheduler/v3/meetings/meeting-links",
    "daily": "/meetings",
}


@pytest.mark.parametrize("provider", sorted(MOUNTS))
def test_echo_credentials_repeats_the_bearer_token_in_an_error_body(
    serve: Serve, provider: str
) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS[provider]
    httpx.put(f"{url}/_sim/behaviour", json={"echo_credentials": True})
    wrong = f"wrong-{TOKENS[provider]}"
    response = httpx.get(url + REFUSED[provider], headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code in (400, 401)
    assert wrong in response.text


@pytest.mark.parametrize("provider", sorted(MOUNTS))
def test_without_echo_no_error_body_repeats_the_token(serve: Serve, provider: str) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS[provider]
    wrong = f"wrong-{TOKENS[provider]}"
    response = httpx.get(url + REFUSED[provider], headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code in (400, 401)
    assert wrong not in response.text


def test_echo_credentials_repeats_the_token_in_injected_errors_too(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS["daily"]
    httpx.put(f"{url}/_sim/behaviour", json={"echo_credentials": True})
    httpx.put(f"{url}/_sim/faults", json={"error_rate": 1, "error_status": 503})
    response = httpx.get(url + "/meetings", headers={"Authorization": f"Bearer {TOKENS['daily']}"})
    assert response.status_code == 503
    assert TOKENS["daily"] in response.json()["info"]


def test_echo_credentials_leaves_successful_answers_alone(serve: Serve) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS["daily"]
    httpx.put(f"{url}/_sim/behaviour", json={"echo_credentials": True})
    response = httpx.get(url + "/meetings", headers={"Authorization": f"Bearer {TOKENS['daily']}"})
    assert response.status_code == 200
    assert TOKENS["daily"] not in response.text
