"""The ``meetingmesh`` command: serve, demo, simulate, export-schema, schema-check, check-config."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import uvicorn

from meetingmesh.config import ConfigError, Settings, load_settings
from meetingmesh.logs import configure_logging
from meetingmesh.serving import LOOPBACK, bind_socket, start_in_thread, tune_gc, uvicorn_config
from meetingmesh.simulators.behaviour import Behaviour, BehaviourSettingsError, parse_text
from meetingmesh.simulators.behaviour import from_mapping as behaviour_from_mapping
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults, FaultSettingsError
from meetingmesh.simulators.server import (
    BEHAVIOURS,
    MOUNTS,
    TOKENS,
    Simulators,
    create_simulators,
    gateway_settings,
    register_webhooks,
)

EXAMPLE_QUERIES = (
    "{ meetings(first: 5) { totalCount edges { node { title provider startTime } } } }",
    '{ member(provider: HEYPEERS, id: "sso-user-abc123") { upcomingMeetings { edges '
    "{ registered waitlistStatus node { title startTime capacity } } } } }",
    '{ schedulingLink(slug: "menelson") { name availability(timezone: "America/New_York") '
    "{ start durationMinutes } } }",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"meetingmesh: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meetingmesh", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway from a configuration file")
    serve.add_argument("--config", required=True, help="TOML configuration file")
    serve.add_argument("--host", default=LOOPBACK)
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="run every simulator and a gateway in front of them")
    demo.add_argument("--port", type=int, default=8000, help="gateway port (default 8000)")
    _simulation_options(demo)
    demo.set_defaults(run=_demo)

    simulate = commands.add_parser("simulate", help="serve the four provider simulators")
    simulate.add_argument("--host", default=LOOPBACK)
    simulate.add_argument("--port", type=int, default=8100, help="port (default 8100)")
    _simulation_options(simulate)
    simulate.set_defaults(run=_simulate)

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument(
        "--possible-types",
        action="store_true",
        help="print the interface/union map Apollo Client's possibleTypes needs (JSON)",
    )
    export.set_defaults(run=_export_schema)

    schema_check = commands.add_parser(
        "schema-check",
        help="classify the changes from a schema file to this code's schema; exit 1 if breaking",
    )
    schema_check.add_argument(
        "--against", default="schema.graphql", help="the SDL to compare with (schema.graphql)"
    )
    schema_check.set_defaults(run=_schema_check)

    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("config", help="TOML configuration file")
    check.set_defaults(run=_check_config)
    return parser


def _simulation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="data set seed (default 0)")
    parser.add_argument(
        "--size", type=int, default=200, help="meetings per provider, 12..100000 (default 200)"
    )
    parser.add_argument(
        "--now",
        default=None,
        help="simulated now: an ISO 8601 instant or 'live' (default 2026-05-22T12:00:00Z)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="PROVIDER:KEY=VALUE",
        help="inject a fault at start, e.g. daily:error_rate=0.5 (repeatable)",
    )
    parser.add_argument(
        "--behaviour",
        action="append",
        default=[],
        metavar="PROVIDER:KEY=VALUE",
        help="set a behaviour switch at start, e.g. daily:participant_order=newest_first "
        "(repeatable)",
    )


def _faults(specs: list[str]) -> dict[str, Faults]:
    values: dict[str, dict[str, float]] = {}
    for spec in specs:
        provider, _, setting = spec.partition(":")
        key, _, raw = setting.partition("=")
        if provider not in MOUNTS or not key or not raw:
            raise ConfigError(
                f"--fault {spec!r}: expected PROVIDER:KEY=VALUE, provider one of "
                f"{', '.join(MOUNTS)}"
            )
        try:
            values.setdefault(provider, {})[key] = float(raw)
        except ValueError:
            raise ConfigError(f"--fault {spec!r}: {raw!r} is not a number") from None
    try:
        return {provider: Faults.from_mapping(v) for provider, v in values.items()}
    except FaultSettingsError as exc:
        raise ConfigError(f"--fault: {exc}") from None


def _behaviour(specs: list[str]) -> dict[str, Behaviour]:
    values: dict[str, dict[str, Any]] = {}
    try:
        for spec in specs:
            provider, _, setting = spec.partition(":")
            key, _, raw = setting.partition("=")
            if provider not in BEHAVIOURS or not key or not raw:
                raise ConfigError(
                    f"--behaviour {spec!r}: expected PROVIDER:KEY=VALUE, provider one of "
                    f"{', '.join(BEHAVIOURS)}"
                )
            values.setdefault(provider, {})[key] = parse_text(BEHAVIOURS[provider], key, raw)
        return {p: behaviour_from_mapping(BEHAVIOURS[p], v) for p, v in values.items()}
    except BehaviourSettingsError as exc:
        raise ConfigError(f"--behaviour: {exc}") from None


def _simulators(args: argparse.Namespace) -> tuple[Clock, Simulators]:
    if not 12 <= args.size <= 100_000:
        raise ConfigError("--size must be between 12 and 100000")
    try:
        clock = Clock() if args.now is None else Clock.parse(args.now)
    except ValueError:
        raise ConfigError(f"--now {args.now!r} is not an ISO 8601 instant or 'live'") from None
    sims = create_simulators(
        seed=args.seed,
        size=args.size,
        clock=clock,
        faults=_faults(args.fault),
        behaviour=_behaviour(args.behaviour),
    )
    return clock, sims


def _simulate(args: argparse.Namespace) -> int:
    _, sims = _simulators(args)
    sock = bind_socket(args.host, args.port)
    url = f"http://{args.host}:{sock.getsockname()[1]}"
    print(f"meetingmesh simulators on {url} (seed {args.seed}, {args.size} meetings each)")
    for name, mount in MOUNTS.items():
        print(f"  {name:<18} base_url = {url}{mount}   token = {TOKENS[name]}")
    print(f"  statistics: {url}/_sim/stats   faults: <base_url>/_sim/faults   Ctrl-C stops")
    print("  behaviour switches: <base_url>/_sim/behaviour (GET shows, PUT sets, DELETE resets)")
    uvicorn.Server(uvicorn_config(sims.app)).run(sockets=[sock])
    return 0


def _demo(args: argparse.Namespace) -> int:
    from meetingmesh.app import create_app

    clock, sims = _simulators(args)
    configure_logging()
    simulators = start_in_thread(sims.app)
    try:
        app = create_app(gateway_settings(simulators.url), clock=clock.now)
        sock = bind_socket(LOOPBACK, args.port)
        url = f"http://{LOOPBACK}:{sock.getsockname()[1]}/graphql"
        print(f"meetingmesh demo: GraphiQL at {url}")
        print(f"  simulators at {simulators.url} (simulated now {clock.now().isoformat()})")
        print("  try:")
        for query in EXAMPLE_QUERIES:
            print(f"    {query}")
        daily = simulators.url + MOUNTS["daily"]
        print(f"  live updates: subscribe in GraphiQL, then POST {daily}/_sim/webhooks/join")
        print('    with {"room": "standup"} (the simulators send signed webhooks to the gateway)')
        print("  Ctrl-C stops everything")
        sys.stdout.flush()
        server = uvicorn.Server(uvicorn_config(app))
        threading.Thread(
            target=_register_when_up, args=(server, simulators.url, url), daemon=True
        ).start()
        server.run(sockets=[sock])
    finally:
        simulators.stop()
    return 0


def _register_when_up(server: uvicorn.Server, simulators_url: str, graphql_url: str) -> None:
    """Register the demo gateway's webhooks with the simulators once it answers."""
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        register_webhooks(simulators_url, graphql_url.removesuffix("/graphql"))
    except httpx.HTTPError as exc:
        print(f"meetingmesh demo: webhooks not registered ({exc})", file=sys.stderr)


def _serve(args: argparse.Namespace) -> int:
    from meetingmesh.app import create_app

    settings = load_settings(args.config)
    configure_logging(settings.server.log_format, settings.server.log_level)
    workers = settings.server.workers
    if workers > 1:
        from meetingmesh.workers import PortUnavailable, WorkerFailed, serve_workers

        def announce(port: int) -> None:
            # Printed once every worker listens: connections wait in their backlogs.
            address = f"http://{args.host}:{port}/graphql"
            print(f"meetingmesh gateway on {address} ({_describe(settings)}; {workers} workers)")
            sys.stdout.flush()

        try:
            serve_workers(args.config, settings, args.host, args.port, announce)
        except WorkerFailed as exc:
            print(f"meetingmesh serve: {exc}", file=sys.stderr)
            return 1
        except PortUnavailable as exc:
            return _cannot_listen(args, exc)
        return 0
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        return _cannot_listen(args, exc)
    address = f"http://{args.host}:{sock.getsockname()[1]}/graphql"
    app = create_app(settings)
    tune_gc()
    print(f"meetingmesh gateway on {address} ({_describe(settings)})")
    metrics = None
    if settings.server.metrics_port is not None:
        # /metrics on its own port: a second server in a thread, stopped with the gateway.
        metrics = start_in_thread(
            app.state.metrics_app, args.host, settings.server.metrics_port, settings=settings.server
        )
        print(f"  metrics on {metrics.url}/metrics")
    sys.stdout.flush()
    try:
        uvicorn.Server(uvicorn_config(app, server=settings.server)).run(sockets=[sock])
    finally:
        if metrics is not None:
            metrics.stop()
    return 0


def _cannot_listen(args: argparse.Namespace, exc: OSError) -> int:
    """A port taken (or an address not this machine's): one line, no traceback."""
    reason = exc.strerror or str(exc)
    print(f"meetingmesh serve: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
    return 1


def _export_schema(args: argparse.Namespace) -> int:
    from meetingmesh.schema import possible_types, print_schema

    if args.possible_types:
        print(json.dumps(possible_types(), indent=2))
    else:
        sys.stdout.write(print_schema())
    return 0


def _schema_check(args: argparse.Namespace) -> int:
    from graphql import GraphQLError

    from meetingmesh.schema import print_schema
    from meetingmesh.schema_check import Severity, compare_sdl, report

    try:
        with open(args.against, encoding="utf-8") as file:
            committed = file.read()
        changes = compare_sdl(committed, print_schema())
    except (OSError, GraphQLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not a valid schema: {exc}"
        print(f"meetingmesh: schema-check: {args.against}: {reason}", file=sys.stderr)
        return 2
    sys.stdout.write(report(changes))
    return 1 if any(c.severity is Severity.BREAKING for c in changes) else 0


def _check_config(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(f"{args.config}: OK ({_describe(settings)})")
    return 0


def _describe(settings: Settings) -> str:
    names = (
        ", ".join(f"{p.label} ({s.credential_form})" for p, s in settings.providers.items())
        or "no providers"
    )
    shared = f"; shared state: {settings.redis.describe()}" if settings.redis.enabled else ""
    return f"providers: {names}{shared}"


if __name__ == "__main__":
    raise SystemExit(main())
