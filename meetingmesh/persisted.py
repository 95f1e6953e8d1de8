"""Persisted documents: automatic persisted queries (APQ) and trusted documents.

**APQ** is the protocol Apollo Client's ``PersistedQueryLink`` and urql's
``persistedExchange`` speak, over POST and GET: a request carries
``extensions.persistedQuery = {version: 1, sha256Hash}`` and no ``query``. A hash the
gateway knows runs its document; an unknown one is answered (HTTP 200, as Apollo Server
does) with ``{"message": "PersistedQueryNotFound", "extensions": {"code":
"PERSISTED_QUERY_NOT_FOUND"}}``, and the client sends the query again with its hash.
That document is remembered once it has executed, i.e. passed parsing, validation and
the limits: a hash that does not match its query is refused (``BAD_REQUEST``) and never
stored. The store is an LRU bounded by the total size of its documents
(``server.apq_cache_bytes``; 0 turns APQ off and answers ``PersistedQueryNotSupported``,
so clients stop hashing).

**Trusted documents** (``server.trusted_documents``, a manifest file) turn the gateway
into allow-list mode: only the manifest's documents run, named by their id
(``extensions.persistedQuery.sha256Hash``, the GraphQL-over-HTTP ``documentId`` with or
without its ``sha256:`` prefix, or Relay's ``doc_id``) or sent as their exact text.
Anything else is refused before it is parsed: ``PERSISTED_QUERY_NOT_IN_LIST`` for an
unknown id, ``QUERY_NOT_IN_SAFELIST`` for other text. Nothing is registered at run time.
``load_manifest`` reads the shapes the tools write: a flat ``{id: document}`` object
(Relay's ``persistConfig`` file, GraphQL Codegen's ``persisted-documents.json``) and
Apollo's ``{"format": "apollo-persisted-query-manifest", "operations": [...]}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from meetingmesh.config import ConfigError
from meetingmesh.errors import ErrorCode

#: The request keys that name a persisted document besides the APQ extension.
ID_KEYS = ("documentId", "doc_id")
#: Where ``fold_document_id`` puts such an id, so it survives Strawberry's request parsing.
_FOLDED = "meetingmeshDocumentId"
_APOLLO_FORMAT = "apollo-persisted-query-manifest"
#: Refusals the clients answer by sending the query again: they stay HTTP 200.
RETRYABLE = frozenset(
    {ErrorCode.PERSISTED_QUERY_NOT_FOUND.value, ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED.value}
)


def sha256(text: str) -> str:
    """The hex SHA-256 of a document, as the APQ protocol computes it."""
    return hashlib.sha256(text.encode()).hexdigest()


def _size(document: str) -> int:
    return len(document.encode())


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


def fold_document_id(body: Any) -> Any:
    """Keep a ``documentId``/``doc_id`` through request parsing (it lands in extensions)."""
    if isinstance(body, dict):
        for key in ID_KEYS:
            if isinstance(body.get(key), str):
                extensions = body.get("extensions")
                extensions = dict(extensions) if isinstance(extensions, dict) else {}
                extensions[_FOLDED] = body[key]
                return {**body, "extensions": extensions}
    return body


def refusal(message: str, code: ErrorCode) -> ExecutionResult:
    """An operation refused before parsing: one error with its code, no data."""
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


@dataclass(frozen=True)
class Resolved:
    """The request to run, and the hash to remember its document under once it ran."""

    request: GraphQLRequestData
    register: str | None = None


class Documents:
    """Turns a request's document reference into the text to run, or a refusal."""

    def __init__(self, apq_cache_bytes: int, trusted: Mapping[str, str] | None = None) -> None:
        self._trusted = dict(trusted) if trusted is not None else None
        self._trusted_texts = frozenset(self._trusted.values()) if self._trusted else frozenset()
        self._apq: LRUCache[str, str] | None = (
            LRUCache(maxsize=apq_cache_bytes, getsizeof=_size) if apq_cache_bytes > 0 else None
        )

    @property
    def trusted_only(self) -> bool:
        """Whether only manifest documents may run."""
        return self._trusted is not None

    def resolve(self, request: GraphQLRequestData) -> Resolved | ExecutionResult:
        """The request with its document filled in, or the refusal to answer instead."""
        extensions = request.extensions or {}
        persisted = extensions.get("persistedQuery")
        document_id = extensions.get(_FOLDED)
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1:
                return refusal("Unsupported persisted query version.", ErrorCode.BAD_REQUEST)
            document_id = persisted.get("sha256Hash")
            if not isinstance(document_id, str) or not document_id:
                return refusal("persistedQuery needs a sha256Hash.", ErrorCode.BAD_REQUEST)
        if self._trusted is not None:
            return self._resolve_trusted(request, document_id)
        if document_id is None:
            return Resolved(request)
        if self._apq is None:
            return refusal("PersistedQueryNotSupported", ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED)
        key = document_id.removeprefix("sha256:")
        if request.query is None:
            known = self._apq.get(key)
            if known is None:
                return refusal("PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND)
            return Resolved(replace(request, query=known))
        if sha256(request.query) != key:
            return refusal("provided sha does not match query", ErrorCode.BAD_REQUEST)
        return Resolved(request, register=key)

    def _resolve_trusted(
        self, request: GraphQLRequestData, document_id: str | None
    ) -> Resolved | ExecutionResult:
        assert self._trusted is not None
        if document_id is not None:
            known = self._trusted.get(document_id)
            if known is None:
                known = self._trusted.get(document_id.removeprefix("sha256:"))
            if known is None:
                return refusal(
                    f"No trusted document has the id {document_id[:80]!r}.",
                    ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
                )
            if request.query is not None and request.query != known:
                return refusal(
                    "The query differs from the trusted document of that id.",
                    ErrorCode.BAD_REQUEST,
                )
            return Resolved(replace(request, query=known))
        if request.query is not None and request.query in self._trusted_texts:
            return Resolved(request)
        return refusal(
            "Only trusted documents run here: send the id of a document in the manifest.",
            ErrorCode.QUERY_NOT_IN_SAFELIST,
        )

    def remember(self, resolved: Resolved, result: ExecutionResult) -> None:
        """Store a newly sent document under its hash once it got past parsing and validation."""
        if resolved.register is None or self._apq is None or resolved.request.query is None:
            return
        never_ran = result.data is None and any(not e.path for e in result.errors or ())
        if not never_ran and _size(resolved.request.query) <= self._apq.maxsize:
            self._apq[resolved.register] = resolved.request.query
