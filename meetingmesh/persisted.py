"""Persisted documents: automatic persisted queries (APQ) and trusted documents.

**APQ** is the protocol Apollo Client's ``PersistedQueryLink`` and urql's
``persistedExchange`` speak, over POST and GET: a request carries
``extensions.persistedQuery = {version: 1, sha256Hash}`` and no ``query``. A hash the
gateway knows runs its document; an unknown one is answered (HTTP 200 whatever the
``Accept``, as Apollo Server does) with ``{"message": "PersistedQueryNotFound",
"extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}``, and the client sends the query
again with its hash.
That document is remembered once it has executed, i.e. passed parsing, validation and
the limits: a hash that does not match its query is refused (``BAD_REQUEST``) and never
stored. The store is an LRU bounded by the memory it holds, each document's size plus
``ENTRY_BYTES`` (``server.apq_cache_bytes``; 0 turns APQ off and answers
``PersistedQueryNotSupported``, so clients stop hashing): many tiny documents cannot
make it hold ten times its bound. With ``[redis] url`` set the documents are shared by
every process (``meetingmesh.shared.documents``): ``recall`` brings a hash this process
does not hold from Redis before ``resolve`` looks, and ``remember`` stores there too.

**Trusted documents** (``server.trusted_documents``, a manifest file) turn the gateway
into allow-list mode: only the manifest's documents run, named by their id
(``extensions.persistedQuery.sha256Hash``, the GraphQL-over-HTTP ``documentId`` with or
without its ``sha256:`` prefix, or Relay's ``doc_id``) or sent as their exact text.
Anything else is refused before it is parsed (over GET too, so even whether it is a
mutation is never looked at): ``PERSISTED_QUERY_NOT_IN_LIST`` for an unknown id,
``QUERY_NOT_IN_SAFELIST`` for other text. Nothing is registered at run time.
``load_manifest`` reads the shapes the tools write: a flat ``{id: document}`` object
(Relay's ``persistConfig`` file, GraphQL Codegen's ``persisted-documents.json``) and
Apollo's ``{"format": "apollo-persisted-query-manifest", "operations": [...]}``.

``Documents.resolve`` runs on every request (every operation of a batch) before the
HTTP layer parses anything; its refusals are ``graphql_request.RequestRefused``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cachetools import LRUCache
from strawberry.types import ExecutionResult

from meetingmesh.config import ConfigError
from meetingmesh.errors import ErrorCode
from meetingmesh.graphql_request import GraphQLRequest, RequestRefused, cannot_run
from meetingmesh.shared.connection import SharedUnavailable
from meetingmesh.shared.documents import SharedDocuments

_APOLLO_FORMAT = "apollo-persisted-query-manifest"


def sha256(text: str) -> str:
    """The hex SHA-256 of a document, as the APQ protocol computes it."""
    return hashlib.sha256(text.encode()).hexdigest()


#: What one remembered document costs besides its text: its 64-character hash, the two
#: string objects and the LRU's bookkeeping (400 to 500 bytes, measured with tracemalloc).
ENTRY_BYTES = 512


def _size(document: str) -> int:
    """The memory one remembered document holds, as ``apq_cache_bytes`` counts it."""
    return len(document.encode()) + ENTRY_BYTES


def load_manifest(path: str | Path) -> dict[str, str]:
    """A persisted-documents manifest as ``{id: document}``; ``ConfigError`` names the fault."""
    where = f"server.trusted_documents: {path}"
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read it ({exc.strerror})") from None
    except ValueError:
        raise ConfigError(f"{where} is not valid JSON") from None
    if isinstance(raw, dict) and raw.get("format") == _APOLLO_FORMAT:
        operations = raw.get("operations")
        if isinstance(operations, dict):  # some generators key the operations by id
            operations = [{"id": k, **v} for k, v in operations.items() if isinstance(v, dict)]
        if not isinstance(operations, list):
            raise ConfigError(f"{where}: 'operations' must be a list")
        documents = {}
        for operation in operations:
            if not isinstance(operation, dict) or not all(
                isinstance(operation.get(k), str) for k in ("id", "body")
            ):
                raise ConfigError(f"{where}: every operation needs a string 'id' and 'body'")
            documents[operation["id"]] = operation["body"]
        return documents
    if isinstance(raw, dict) and all(isinstance(v, str) for v in raw.values()):
        return dict(raw)
    raise ConfigError(
        f"{where} is neither an {{id: document}} object (Relay, GraphQL Codegen) "
        f"nor an Apollo persisted query manifest"
    )


def _retry(message: str, code: ErrorCode) -> RequestRefused:
    """A refusal the APQ clients answer by sending the query again: HTTP 200 for everyone."""
    return RequestRefused(200, message, code)


@dataclass(frozen=True)
class Resolved:
    """The request to run (its ``query`` filled in), and the hash to remember it under."""

    request: GraphQLRequest
    register: str | None = None

    @property
    def query(self) -> str:
        """The document's text."""
        assert self.request.query is not None  # resolve() never returns one without
        return self.request.query


class Documents:
    """Turns a request's document reference into the text to run, or a refusal."""

    def __init__(self, apq_cache_bytes: int, trusted: Mapping[str, str] | None = None) -> None:
        self._trusted = dict(trusted) if trusted is not None else None
        self._trusted_texts = frozenset(self._trusted.values()) if self._trusted else frozenset()
        self._apq: LRUCache[str, str] | None = (
            LRUCache(maxsize=apq_cache_bytes, getsizeof=_size) if apq_cache_bytes > 0 else None
        )
        #: The documents every process registered (Redis), or None for this process alone.
        self.shared: SharedDocuments | None = None

    def resolve(self, request: GraphQLRequest) -> Resolved:
        """The request with its document filled in; ``RequestRefused`` says why not.

        Nothing here parses the document.
        """
        persisted = (request.extensions or {}).get("persistedQuery")
        document_id = request.document_id
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1:
                raise RequestRefused(400, "Unsupported persisted query version.")
            document_id = persisted.get("sha256Hash")
            if not isinstance(document_id, str) or not document_id:
                raise RequestRefused(400, "persistedQuery needs a sha256Hash.")
        if self._trusted is not None:
            return self._resolve_trusted(request, document_id)
        if document_id is None:
            return Resolved(request)
        if self._apq is None:
            raise _retry("PersistedQueryNotSupported", ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED)
        key = document_id.removeprefix("sha256:")
        if request.query is None:
            known = self._apq.get(key)
            if known is None:
                raise _retry("PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND)
            return Resolved(replace(request, query=known))
        if sha256(request.query) != key:
            raise RequestRefused(400, "provided sha does not match query")
        return Resolved(request, register=key)

    def _resolve_trusted(self, request: GraphQLRequest, document_id: str | None) -> Resolved:
        assert self._trusted is not None
        if document_id is not None:
            known = self._trusted.get(document_id)
            if known is None:
                known = self._trusted.get(document_id.removeprefix("sha256:"))
            if known is None:
                raise cannot_run(
                    f"No trusted document has the id {document_id[:80]!r}.",
                    ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
                )
            if request.query is not None and request.query != known:
                raise RequestRefused(400, "The query differs from the trusted document of that id.")
            return Resolved(replace(request, query=known))
        if request.query is not None and request.query in self._trusted_texts:
            return Resolved(request)
        raise cannot_run(
            "Only trusted documents run here: send the id of a document in the manifest.",
            ErrorCode.QUERY_NOT_IN_SAFELIST,
        )

    async def recall(self, requests: GraphQLRequest | list[GraphQLRequest]) -> None:
        """Bring the APQ documents these requests name and this process lacks from Redis."""
        shared = self.shared
        if shared is None or self._apq is None or self._trusted is not None:
            return
        for request in requests if isinstance(requests, list) else (requests,):
            persisted = (request.extensions or {}).get("persistedQuery")
            if request.query is not None or not isinstance(persisted, dict):
                continue
            key = persisted.get("sha256Hash")
            if not isinstance(key, str) or not key or key in self._apq or not shared.available:
                continue
            try:
                document = await shared.recall(key)
            except SharedUnavailable:
                return
            if document is not None and sha256(document) == key:
                self._apq[key] = document

    async def remember(self, resolved: Resolved, result: ExecutionResult) -> None:
        """Store a newly sent document under its hash once it got past parsing and validation."""
        if resolved.register is None or self._apq is None:
            return
        never_ran = result.data is None and any(not e.path for e in result.errors or ())
        if not never_ran and _size(resolved.query) <= self._apq.maxsize:
            self._apq[resolved.register] = resolved.query
            if self.shared is not None and self.shared.available:
                with contextlib.suppress(SharedUnavailable):  # this process still remembers it
                    await self.shared.keep(resolved.register, resolved.query)
