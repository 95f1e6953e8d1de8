"""graphql-http's own audit of the GraphQL-over-HTTP specification passes.

The audit (the reference implementation's ``auditServer``) sends its requests to the
running gateway; every MUST and SHOULD passes. The MAYs are printed, not asserted.
"""

from __future__ import annotations

from tests.conftest import Clients, Stack


def test_every_must_and_should_of_the_graphql_over_http_audit_passes(
    gateway: Stack, clients: Clients
) -> None:
    audits = clients.run("http_audit.mjs", url=f"{gateway.gateway_url}/graphql")
    assert len(audits) > 50  # the audit really ran
    required = [a for a in audits if a["name"].startswith(("MUST", "SHOULD"))]
    assert len(required) > 30
    failed = [f"{a['id']} {a['name']}: {a['reason']}" for a in required if a["status"] != "ok"]
    assert not failed, "\n".join(failed)
    for audit in audits:
        if audit["status"] != "ok":
            print(f"{audit['id']} {audit['name']}: {audit['status']} ({audit['reason']})")
