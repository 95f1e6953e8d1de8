"""Strawberry types only: they turn domain records into GraphQL.

``build_schema()`` assembles the one schema of the gateway; ``schema.graphql`` at the
repository root is its printed form, kept in step by a snapshot test.
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from meetingmesh.errors import GatewayError
from meetingmesh.schema.errors import ReportedErrors, masking
from meetingmesh.schema.limits import query_limits
from meetingmesh.schema.query import Mutation, Query
from meetingmesh.schema.types import (
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
        """Log each error once: a provider failure without a traceback, a bug with one."""
        for error in errors:
            original = error.original_error
            if isinstance(original, GatewayError):
                extensions = original.extensions
                logger.warning(
                    "%s %s: %s", extensions["code"], extensions.get("provider", "-"), error.message
                )
            elif original is None or isinstance(original, GraphQLError):
                logger.info("rejected request: %s", error.message)
            else:
                StrawberryLogger.error(error, execution_context)


def build_schema() -> strawberry.Schema:
    """The gateway's schema with its error handling and parse/validation caches."""
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[
            Meeting,
            Member,
            Course,
            SchedulingLink,
            HeyPeersMeetingDetails,
            ThoughtIndustriesMeetingDetails,
            DailyMeetingDetails,
        ],
        extensions=[
            ReportedErrors,
            masking,
            query_limits,
            # Factories: the caches themselves live at module level, shared by requests.
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


def print_schema() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"
