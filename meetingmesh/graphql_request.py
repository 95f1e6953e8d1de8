"""Reading a GraphQL-over-HTTP request: the one place where a request becomes a ``GraphQLRequest``.

A GET carries ``query``, ``variables`` (JSON), ``operationName``, ``extensions`` (JSON)
and, naming a persisted document, ``documentId`` or ``doc_id`` in its query string; a
POST carries the same names in an ``application/json`` body (media types compare
case-insensitively; a charset, if given, must be UTF-8) that is one JSON object, or
a JSON array of them: a batch (``server.max_batch_operations`` at most; 0 turns
batching off). Everything that makes a request malformed is a ``RequestRefused``
(``BAD_REQUEST``) naming what is wrong: a body that is not JSON or not UTF-8, a JSON
scalar, a ``query`` that is not a string (or missing where no persisted document is
named), ``variables`` or ``extensions`` that are not objects, an ``operationName`` or
document id that is not a string, a batch that is empty, too long or holds an entry
that is malformed itself (the whole batch is refused, naming the entry). Those are 400
for every client. ``choose_operation`` refuses, like a validation error (``cannot_run``),
a document with several operations and no ``operationName``, or an ``operationName``
the document does not hold.

Which document a persisted reference names is ``persisted.py``'s concern; what a
batch may cost as a whole is ``batching.py``'s.
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
#: The request keys that name a persisted document besides the APQ extension.
ID_KEYS = ("documentId", "doc_id")


class RequestRefused(Exception):
    """A request refused before execution: an HTTP status, a message, an error code.

    ``status`` is what every client gets, unless ``classic_status`` is set: then that is
    what ``application/json`` clients get. A request that is not a well-formed
    GraphQL-over-HTTP request (``BAD_REQUEST``) is 400 for everyone, as the
    specification asks; a well-formed one that cannot run (``cannot_run``) is treated
    like a validation error: 400 for ``application/graphql-response+json`` clients, 200
    for ``application/json`` ones (their always-200 convention).
    """

    def __init__(
        self,
        status: int,
        message: str,
        code: ErrorCode | None = ErrorCode.BAD_REQUEST,
        headers: Mapping[str, str] | None = None,
        *,
        classic_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})
        self.classic_status = classic_status

    def status_for(self, media: str) -> int:
        """The HTTP status for a client answered in ``media``."""
        if media == JSON and self.classic_status is not None:
            return self.classic_status
        return self.status


def cannot_run(message: str, code: ErrorCode = ErrorCode.BAD_REQUEST) -> RequestRefused:
    """A well-formed request that cannot run: 400, or 200 for ``application/json`` clients."""
    return RequestRefused(400, message, code, classic_status=200)


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """One GraphQL request, its parameters checked for type.

    ``query`` is None only when the request names a persisted document instead
    (``document_id``, or ``extensions.persistedQuery``).
    """

    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = field(default=None)
    #: A ``documentId``/``doc_id``: the id of a persisted (trusted) document.
    document_id: str | None = None

    @property
    def names_persisted_document(self) -> bool:
        """Whether the request names a persisted document (by id or APQ hash)."""
        return self.document_id is not None or "persistedQuery" in (self.extensions or {})


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


def read_post(body: bytes, max_batch_operations: int) -> GraphQLRequest | list[GraphQLRequest]:
    """The request in a POST body (its content type already checked), or a batch of them."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestRefused(400, "The request body is not valid UTF-8 JSON.") from None
    if isinstance(value, list):
        return _batch(value, max_batch_operations)
    return from_object(value)


def _batch(items: list[Any], max_operations: int) -> list[GraphQLRequest]:
    """The operations of a batch body; any fault refuses the whole batch."""
    if max_operations <= 0:
        raise RequestRefused(400, "Batching is turned off here: send one operation per request.")
    if not items:
        raise RequestRefused(400, "A batch needs at least one operation.")
    if len(items) > max_operations:
        raise RequestRefused(
            400,
            f"A batch may hold at most {max_operations} operations; this one has {len(items)}.",
        )
    requests = []
    for index, item in enumerate(items):
        try:
            requests.append(from_object(item))
        except RequestRefused as no:
            raise RequestRefused(400, f"Operation {index} of the batch: {no.message}") from None
    return requests


def read_get(params: Mapping[str, str | None]) -> GraphQLRequest:
    """The request in a GET query string."""
    value: dict[str, Any] = {k: params.get(k) for k in ("query", "operationName", *ID_KEYS)}
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
    variables = value.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, "`variables` must be an object.")
    operation_name = value.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRefused(400, "`operationName` must be a string.")
    extensions = value.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestRefused(400, "`extensions` must be an object.")
    document_id = None
    for key in ID_KEYS:
        given = value.get(key)
        if given is not None:
            if not isinstance(given, str):
                raise RequestRefused(400, f"`{key}` must be a string.")
            document_id = document_id or given
    query = value.get("query")
    if query is not None and not isinstance(query, str):
        raise RequestRefused(400, "`query` must be a string.")
    request = GraphQLRequest(query, variables, operation_name, extensions, document_id)
    if query is None and not request.names_persisted_document:
        raise RequestRefused(400, "No GraphQL query found in the request.")
    return request


def choose_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation a request runs, or a refusal when the document does not say which."""
    operation = select_operation(document, operation_name)
    if operation is not None:
        return operation
    if operation_name is not None:
        raise cannot_run(f"The document has no operation named {operation_name!r}.")
    if not operations_of(document):
        raise cannot_run("The document has no operation to run.")
    raise cannot_run(
        "The document has several operations: `operationName` must name the one to run."
    )
