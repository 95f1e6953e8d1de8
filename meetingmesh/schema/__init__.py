"""Strawberry types only: they turn domain records into GraphQL.

``build_schema()`` assembles the one schema of the gateway; ``schema.graphql`` at the
repository root is its printed form, kept in step by a snapshot test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import strawberry
from graphql import GraphQLError, is_abstract_type
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from meetingmesh.config import ServerSettings
from meetingmesh.errors import GatewayError
from meetingmesh.request_id import current as current_request_id
from meetingmesh.schema.errors import Outcomes
from meetingmesh.schema.fastpath import FastExecutor
from meetingmesh.schema.limits import document_checks
from meetingmesh.schema.query import Mutation, Query
from meetingmesh.schema.scalars import DATETIME
from meetingmesh.schema.subscription import Subscription
from meetingmesh.schema.types import (
    Attendee,
    Course,
    DailyMeetingDetails,
    HeyPeersMeetingDetails,
    Meeting,
    Member,
    SchedulingLink,
    ThoughtIndustriesMeetingDetails,
)

logger = logging.getLogger("meetingmesh.graphql")


class GatewaySchema(strawberry.Schema):
    """The schema, logging expected failures as one line and only surprises in full."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log each error once: a provider failure without a traceback, a bug with one.

        Every line names the request id, which masked errors also carry to the client.
        """
        request_id = current_request_id() or "-"
        for error in errors:
            original = error.original_error
            if isinstance(original, GatewayError):
                extensions = original.extensions
                logger.warning(
                    "request %s: %s %s: %s",
                    request_id,
                    extensions["code"],
                    extensions.get("provider", "-"),
                    error.message,
                )
            elif original is None or isinstance(original, GraphQLError):
                logger.info("request %s: rejected: %s", request_id, error.message)
            else:
                logger.error(
                    "request %s: unexpected error in %s",
                    request_id,
                    ".".join(str(p) for p in error.path or ()) or "the operation",
                    exc_info=original,
                )


def build_schema(server: ServerSettings | None = None) -> strawberry.Schema:
    """The gateway's schema with its limits, error handling and parse/validation caches."""
    server = server or ServerSettings()
    # Two extensions doing what nine did: Strawberry's cost per request grows with
    # their number. The caches live at module level, shared by requests.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        Outcomes,
        document_checks(server),
    ]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Attendee,
            Meeting,
            Member,
            Course,
            SchedulingLink,
            HeyPeersMeetingDetails,
            ThoughtIndustriesMeetingDetails,
            DailyMeetingDetails,
        ],
        extensions=extensions,
        execution_context_class=FastExecutor,
        scalar_overrides={datetime: DATETIME},
        config=StrawberryConfig(
            auto_camel_case=True,
            # Batches are checked and run by meetingmesh.batching; this lets them through.
            batching_config=(
                {"max_operations": server.max_batch_operations}
                if server.max_batch_operations
                else None
            ),
        ),
    )


def print_schema() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"


def possible_types() -> dict[str, list[str]]:
    """Each interface and union with the object types that can stand for it.

    The map Apollo Client's ``possibleTypes`` option needs to match fragments on
    abstract types (``... on Node``, ``... on MeetingDetails``) from its cache.
    """
    schema = build_schema()._schema
    return {
        name: sorted(t.name for t in schema.get_possible_types(abstract))
        for name, abstract in sorted(schema.type_map.items())
        if not name.startswith("__") and is_abstract_type(abstract)
    }
