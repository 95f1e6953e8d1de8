"""Reading a GraphQL-over-HTTP request: the one place where a request becomes a ``GraphQLRequest``.

A GET carries ``query``, ``variables`` (JSON), ``operationName`` and ``extensions``
(JSON) in its query string; a POST carries them in an ``application/json`` body
(media types compare case-insensitively; a charset, if given, must be UTF-8) that is
one JSON object. Everything that makes a request malformed is a ``RequestRefused``
naming what is wrong: a body that is not JSON or not UTF-8, a JSON array or scalar, a
``query`` that is not a string, ``variables`` or ``extensions`` that are not objects,
an ``operationName`` that is not a string, a document with several operations and no
``operationName``, or an ``operationName`` the document does not hold.

Request batching (an array body) and persisted queries (``extensions``) belong here:
``read_post`` is where a body's shape is decided, ``from_object`` where one request is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import DocumentNode, OperationDefinitionNode

from meetingmesh.errors import ErrorCode
from meetingmesh.schema.selection import operations_of, select_operation

JSON = "application/json"


class RequestRefused(Exception):
    """A request refused before execution: an HTTP status, a message, an error code.

    A 400 is a malformed GraphQL request: ``application/json`` clients get it with
    status 200 (their always-200 convention), others with 400.
    """

    def __init__(
        self,
        status: int,
        message: str,
        code: ErrorCode | None = ErrorCode.BAD_USER_INPUT,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """One GraphQL request, its parameters checked for type."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = field(default=None)


def media_type(header: str) -> str:
    """The media type of a ``Content-Type``/``Accept`` entry: lower case, no parameters."""
    return header.split(";", 1)[0].strip().lower()


def _parameters(header: str) -> dict[str, str]:
    _, _, rest = header.partition(";")
    pairs = (p.partition("=") for p in rest.split(";") if p.strip())
    return {name.strip().lower(): value.strip().strip('"').lower() for name, _, value in pairs}


def check_content_type(header: str) -> None:
    """Refuse (415) a POST body that is not UTF-8 ``application/json``."""
    if media_type(header) != JSON:
        raise RequestRefused(415, "POST bodies must be application/json.", None)
    charset = _parameters(header).get("charset")
    if charset is not None and charset not in ("utf-8", "utf8"):
        raise RequestRefused(415, "POST bodies must be UTF-8 encoded JSON.", None)


def read_post(body: bytes) -> GraphQLRequest:
    """The request in a POST body (its content type already checked)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestRefused(400, "The request body is not valid UTF-8 JSON.") from None
    return from_object(value)


def read_get(params: Mapping[str, str | None]) -> GraphQLRequest:
    """The request in a GET query string."""
    value: dict[str, Any] = {k: params.get(k) for k in ("query", "operationName")}
    for name in ("variables", "extensions"):
        text = params.get(name)
        if text is not None:
            try:
                value[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise RequestRefused(400, f"`{name}` is not valid JSON.") from None
    return from_object(value)


def from_object(value: object) -> GraphQLRequest:
    """One request from its JSON form, every parameter checked for type."""
    if not isinstance(value, dict):
        raise RequestRefused(400, "The request must be a JSON object.")
    query = value.get("query")
    if query is None:
        raise RequestRefused(400, "No GraphQL query found in the request.")
    if not isinstance(query, str):
        raise RequestRefused(400, "`query` must be a string.")
    variables = value.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, "`variables` must be an object.")
    operation_name = value.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRefused(400, "`operationName` must be a string.")
    extensions = value.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestRefused(400, "`extensions` must be an object.")
    return GraphQLRequest(query, variables, operation_name, extensions)


def choose_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation a request runs, or a refusal when the document does not say which."""
    operation = select_operation(document, operation_name)
    if operation is not None:
        return operation
    if operation_name is not None:
        raise RequestRefused(400, f"The document has no operation named {operation_name!r}.")
    if not operations_of(document):
        raise RequestRefused(400, "The document has no operation to run.")
    raise RequestRefused(
        400, "The document has several operations: `operationName` must name the one to run."
    )
