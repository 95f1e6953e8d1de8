"""The fast path: each query document planned once, then run as straight code.

graphql-core's executor works out, for every field of every object of every request,
what the document and the schema already said: the field's definition, its resolver,
its argument values, its return type, a resolve-info object, a path. On a page of 20
meetings with their attendees that is several hundred fields and most of the gateway's
CPU. ``FastExecutor`` (the executor Strawberry hands graphql-core) plans an operation
once per parsed document (``_Planner``: graphql-core's own field collection, with each
field's definition, Strawberry field, resolver parameters and the completion of its
type decided) and keeps the plan while the document is cached (``PLANS``). ``_Run``
then runs the plan: a basic field is an attribute read and, for a leaf, its coercion;
a field with a resolver gets the same resolve info and Strawberry ``Info`` as before
and its arguments are coerced and converted once per request, not once per item.
graphql-core's semantics are kept step by step: errors located at their path, null
propagation to the nearest nullable position, errors below a position already nulled
dropped, siblings started together (so dataloaders still batch) and awaited together.

What it does not plan runs on graphql-core as before: mutations and subscriptions,
introspection (``__schema``, ``__type``), ``@skip``/``@include`` whose condition is a
variable and any other directive, fragment variables, fields without a Strawberry
definition or with field extensions or exception handlers, and schemas whose
extensions hook every resolver (a ``resolve`` middleware).

``MODE`` chooses the executor: ``"fast"`` (the default), ``"reference"`` (graphql-core
for everything) or ``"compare"`` (the test suite's): every planned operation then also
runs on graphql-core over the same resolver outcomes (``_Tape``: the resolvers are not
called again, so no upstream call or reported error happens twice, and each resolver's
arguments are compared too), and any difference in data or errors is logged and kept
in ``MISMATCHES``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Hashable
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime
from types import GeneratorType
from typing import Any, NamedTuple

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLAbstractType,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    OperationType,
    Undefined,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    located_error,
    print_ast,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import (
    FieldDetailsList,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.executor import CollectedErrors
from graphql.execution.middleware import MiddlewareManager
from graphql.execution.values import get_argument_values
from graphql.language import (
    DirectiveNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.pyutils import Path, gather_with_cancel, inspect, is_iterable
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from meetingmesh.schema.memo import NodeMemo

logger = logging.getLogger("meetingmesh.fastpath")

#: "fast", "reference" (graphql-core only) or "compare" (both, differences recorded).
MODE = "fast"
#: Differences the compare mode found (each a description), oldest first.
MISMATCHES: list[str] = []
#: Distinct operations whose plans are kept (the parse caches keep 256 documents too).
PLAN_CACHE_SIZE = 256
#: Distinct argument values whose conversion each planned field keeps.
_CONVERSIONS = 32

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
_SKIP_INCLUDE = frozenset({"skip", "include"})
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
#: Classes whose instances are never awaitable (no ``__await__``, not a generator).
_NEVER_AWAITABLE: set[type] = set()


def is_awaitable(value: Any) -> bool:
    """Strawberry's (graphql-core's) check, remembering the classes it said no to.

    Every object the executor completes is checked; a Strawberry type's instances are
    never awaitable, and its class is told apart in one set lookup.
    """
    kind = type(value)
    if kind in _NEVER_AWAITABLE:
        return False
    if optimized_is_awaitable(value):
        return True
    if kind is not GeneratorType and not hasattr(kind, "__await__"):
        _NEVER_AWAITABLE.add(kind)
    return False


ResolveInfo = GraphQLResolveInfo[Any]


class Unplannable(Exception):
    """An operation the fast path leaves to graphql-core (the reason is the message)."""


# --- the plan --------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Leaf:
    """A scalar or enum: values of the ``plain`` Python type are their own output."""

    output: GraphQLLeafType
    plain: type | None
    #: The type's ``coerce_output_value``, looked up once.
    coerce: Callable[[Any], Any] = field(init=False)

    def __post_init__(self) -> None:
        self.coerce = _int if self.output is GraphQLInt else self.output.coerce_output_value


@dataclass(eq=False, slots=True)
class _NonNull:
    inner: Completion


@dataclass(eq=False, slots=True)
class _List:
    inner: Completion


@dataclass(eq=False, slots=True)
class _Object:
    """An object type and the fields selected on it, in response order."""

    output: GraphQLObjectType
    fields: tuple[_Field, ...] = ()
    #: The type's ``is_type_of`` check, and whether it reads the resolve info.
    is_type_of: Callable[[Any, Any], Any] | None = None
    check_needs_info: bool = False


@dataclass(eq=False, slots=True)
class _Abstract:
    """An interface or union and the plan of each object type it may resolve to."""

    output: GraphQLAbstractType
    objects: dict[str, _Object]


Completion = _Leaf | _NonNull | _List | _Object | _Abstract


@dataclass(eq=False, slots=True)
class _Field:
    """One response key of an object's selection, planned."""

    key: str
    name: str
    parent: GraphQLObjectType
    definition: GraphQLField
    details: FieldDetailsList
    nodes: list[FieldNode]
    completion: Completion
    #: ``__typename``: the parent type's name, nothing else.
    typename: bool = False
    #: Basic fields (no resolver): the attribute, and the getter when not ``getattr``.
    attribute: str = ""
    getter: Callable[[Any, str], Any] = getattr
    #: A basic field of leaf type, completed inline: its leaf and whether it is non-null.
    leaf: _Leaf | None = None
    non_null: bool = False
    #: Fields with a resolver: the Strawberry field and where the resolver takes what.
    strawberry: StrawberryField | None = None
    self_parameter: bool = False
    source_names: tuple[str, ...] = ()
    info_name: str | None = None
    null_message: str = field(default="")
    #: Strawberry's conversions of this field's recent argument values (see ``_Run``).
    conversions: dict[Hashable, dict[str, Any]] = field(default_factory=dict)


class OperationPlan(NamedTuple):
    """A planned operation: its root selection."""

    root: _Object


def _int(value: Any) -> Any:
    """graphql-core's ``Int`` coercion, an int within 32 bits passed straight through."""
    if type(value) is int and _INT_MIN <= value <= _INT_MAX:
        return value
    return GraphQLInt.coerce_output_value(value)


def _plain(leaf: GraphQLLeafType) -> type | None:
    if leaf is GraphQLString or leaf is GraphQLID:
        return str
    if leaf is GraphQLBoolean:
        return bool
    return None


class _Planner:
    """Plans one operation against the executor graphql-core built for its first request."""

    def __init__(self, executor: Executor[Any]) -> None:
        self.executor = executor
        schema = executor.schema
        self.schema = schema
        strawberry_schema = getattr(schema, "_strawberry_schema", None)
        converter = getattr(strawberry_schema, "schema_converter", None)
        handlers = getattr(converter, "_get_field_exception_handlers", None)
        if handlers is None:
            raise Unplannable("not a Strawberry schema")
        self.handlers: Callable[[StrawberryField], tuple[Any, ...]] = handlers

    def operation(self) -> OperationPlan:
        executor = self.executor
        operation = executor.operation
        if operation.operation is not OperationType.QUERY:
            raise Unplannable(f"a {operation.operation.value}")
        if any(f.variable_signatures for f in executor.fragments.values()):
            raise Unplannable("fragment variables")
        _check_directives(operation.selection_set, executor, set())
        root_type = self.schema.query_type
        assert root_type is not None
        grouped, deferred, _forbidden = collect_fields(
            self.schema,
            executor.fragments,
            executor.variable_values,
            root_type,
            operation,
            executor.hide_suggestions,
        )
        if deferred:
            raise Unplannable("@defer")
        return OperationPlan(self.object(root_type, grouped))

    def object(self, object_type: GraphQLObjectType, grouped: GroupedFieldSet) -> _Object:
        check = object_type.is_type_of
        return _Object(
            object_type,
            tuple(self.field(object_type, key, details) for key, details in grouped.items()),
            check,
            # Strawberry's own checks never read the info; another one gets a real one.
            check is not None and "_get_is_type_of" not in getattr(check, "__qualname__", ""),
        )

    def field(self, parent: GraphQLObjectType, key: str, details: FieldDetailsList) -> _Field:
        node = details[0].node
        name = node.name.value
        nodes = [d.node for d in details]
        if name == "__typename":
            definition = self.schema.get_field(parent, name)
            assert definition is not None
            return _Field(
                key, name, parent, definition, details, nodes, _Leaf(GraphQLString, str), True
            )
        if name.startswith("__"):
            raise Unplannable(f"introspection ({name})")
        definition = parent.fields.get(name)
        if definition is None:
            raise Unplannable(f"unknown field {parent.name}.{name}")
        strawberry_field = (definition.extensions or {}).get(_BACKREF)
        if not isinstance(strawberry_field, StrawberryField):
            raise Unplannable(f"{parent.name}.{name} has no Strawberry field")
        if strawberry_field.extensions or self.handlers(strawberry_field):
            raise Unplannable(f"{parent.name}.{name} has field extensions")
        completion = self.completion(definition.type, details)
        planned = _Field(
            key,
            name,
            parent,
            definition,
            details,
            nodes,
            completion,
            null_message=f"Cannot return null for non-nullable field {parent.name}.{name}.",
        )
        resolver = strawberry_field.base_resolver
        if resolver is None:
            planned.attribute = strawberry_field.python_name
            planned.getter = strawberry_field.default_resolver
            inner = completion.inner if isinstance(completion, _NonNull) else completion
            if isinstance(inner, _Leaf):
                planned.leaf = inner
                planned.non_null = inner is not completion
            return planned
        planned.strawberry = strawberry_field
        planned.self_parameter = resolver.self_parameter is not None
        planned.source_names = tuple(
            p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
        )
        info = resolver.info_parameter
        planned.info_name = None if info is None else info.name
        return planned

    def completion(self, graphql_type: GraphQLOutputType, details: FieldDetailsList) -> Completion:
        if isinstance(graphql_type, GraphQLNonNull):
            return _NonNull(self.completion(graphql_type.of_type, details))
        if isinstance(graphql_type, GraphQLList):
            return _List(self.completion(graphql_type.of_type, details))
        if is_leaf_type(graphql_type):
            return _Leaf(graphql_type, _plain(graphql_type))
        if is_abstract_type(graphql_type):
            return _Abstract(
                graphql_type,
                {
                    t.name: self.subfields(t, details)
                    for t in self.schema.get_possible_types(graphql_type)
                },
            )
        assert isinstance(graphql_type, GraphQLObjectType)
        return self.subfields(graphql_type, details)

    def subfields(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> _Object:
        executor = self.executor
        grouped, deferred, _forbidden = collect_subfields(
            self.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            object_type,
            details,
            executor.hide_suggestions,
        )
        if deferred:
            raise Unplannable("@defer")
        return self.object(object_type, grouped)


def _check_directives(
    selection_set: SelectionSetNode | None, executor: Executor[Any], seen: set[str]
) -> None:
    """Only ``@skip``/``@include`` with a literal condition: the plan must not vary."""
    for selection in selection_set.selections if selection_set is not None else ():
        _check_node_directives(selection.directives or ())
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = executor.fragments.get(name)
            if fragment is not None and name not in seen:
                seen.add(name)
                _check_node_directives(fragment.definition.directives or ())
                _check_directives(fragment.definition.selection_set, executor, seen)
        else:
            assert isinstance(selection, FieldNode | InlineFragmentNode)
            _check_directives(selection.selection_set, executor, seen)


def _check_node_directives(directives: tuple[DirectiveNode, ...] | list[DirectiveNode]) -> None:
    for directive in directives:
        if directive.name.value not in _SKIP_INCLUDE:
            raise Unplannable(f"@{directive.name.value}")
        if any(isinstance(a.value, VariableNode) for a in directive.arguments or ()):
            raise Unplannable(f"@{directive.name.value} on a variable")


def _plan(executor: Executor[Any]) -> OperationPlan | None:
    """The plan of the executor's operation, or None when graphql-core must run it."""
    try:
        return _Planner(executor).operation()
    except Unplannable as why:
        logger.debug("left to graphql-core: %s", why)
        return None


#: Plans by schema and operation node (None: left to graphql-core).
PLANS: NodeMemo[OperationPlan | None] = NodeMemo(PLAN_CACHE_SIZE)


# --- running a plan --------------------------------------------------------------------


class _Arguments(NamedTuple):
    """A field's arguments for this request: graphql-core's values, Strawberry's, or why not."""

    raw: dict[str, Any] | None
    converted: dict[str, Any] | None
    error: Exception | None


class _Run:
    """One execution of a plan, with the executor graphql-core built for the request."""

    def __init__(self, executor: FastExecutor, plan: OperationPlan, tape: _Tape | None) -> None:
        self.executor = executor
        self.plan = plan
        self.errors = executor.collected_errors
        self.propagate = executor.error_propagation
        self.tape = tape
        strawberry_schema = executor.schema._strawberry_schema  # type: ignore[attr-defined]
        self.config = strawberry_schema.config
        self.scalars = strawberry_schema.schema_converter.scalar_registry
        self.arguments: dict[int, _Arguments] = {}

    def run(self) -> ExecutionResult | Awaitable[ExecutionResult]:
        """The operation's result (awaitable when a resolver was)."""
        executor = self.executor
        try:
            data = self.fields(self.plan.root, executor.root_value, None)
        except GraphQLError as error:
            self.errors.add(error, None)
            return self.response(None)
        if is_awaitable(data):

            async def await_data() -> ExecutionResult:
                try:
                    awaited = await data
                except GraphQLError as error:
                    self.errors.add(error, None)
                    return self.response(None)
                return self.response(awaited)

            return await_data()
        return self.response(data)

    def response(self, data: dict[str, Any] | None) -> ExecutionResult:
        result = Executor.build_response(self.executor, data)
        assert isinstance(result, ExecutionResult)
        # The executor's helpers are bound methods of the executor: a reference cycle
        # the garbage collector would have to find. Nothing asks for them any more.
        self.executor.async_helpers = None  # type: ignore[assignment]
        return result

    def handle_error(
        self, raw: Exception, return_type: Any, nodes: list[FieldNode], path: Path
    ) -> None:
        """graphql-core's ``handle_field_error``: raise through a non-null, else record."""
        error = located_error(raw, nodes, path.as_list())
        if self.propagate and is_non_null_type(return_type):
            raise error
        self.errors.add(error, path)

    def fields(self, plan: _Object, source: Any, path: Path | None) -> Any:
        """The selection of ``plan`` on ``source``: a dict, or an awaitable of one."""
        results: dict[str, Any] = {}
        pending: list[str] | None = None
        typename = plan.output.name
        try:
            for f in plan.fields:
                key = f.key
                leaf = f.leaf
                if leaf is not None:
                    try:
                        value = f.getter(source, f.attribute)
                        if value is None:
                            if f.non_null:
                                raise TypeError(f.null_message)
                        elif type(value) is not leaf.plain:
                            value = _coerce(leaf, value)
                    except Exception as raw:
                        self.handle_error(
                            raw, f.definition.type, f.nodes, Path(path, key, typename)
                        )
                        value = None
                    results[key] = value
                elif f.typename:
                    results[key] = typename
                else:
                    value = self.field(f, source, Path(path, key, typename))
                    results[key] = value
                    if is_awaitable(value):
                        if pending is None:
                            pending = [key]
                        else:
                            pending.append(key)
        except Exception:
            if pending:
                self.executor.settle_in_background([results[k] for k in pending])
            raise
        if pending is None:
            return results
        waiting = pending

        async def gathered() -> dict[str, Any]:
            if len(waiting) == 1:
                results[waiting[0]] = await results[waiting[0]]
            else:
                awaited = await gather_with_cancel(*(results[k] for k in waiting))
                results.update(zip(waiting, awaited, strict=True))
            return results

        return gathered()

    def field(self, f: _Field, source: Any, path: Path) -> Any:
        """One field that is not an inline leaf: resolved, then completed."""
        info: ResolveInfo | None = None
        try:
            if f.strawberry is not None:
                info = self.executor.build_resolve_info(f.definition, f.nodes, f.parent, path)
                result = self.resolve(f, source, info, path)
                if is_awaitable(result):
                    return self.complete_awaitable(f, info, path, result)
            else:
                result = f.getter(source, f.attribute)
                if is_awaitable(result):
                    return self.complete_awaitable(f, info, path, result)
            completed = self.complete(f.completion, f, info, path, result)
            if is_awaitable(completed):
                return self.await_completed(f, path, completed)
            return completed
        except Exception as raw:
            self.handle_error(raw, f.definition.type, f.nodes, path)
            return None

    async def await_completed(self, f: _Field, path: Path, completed: Awaitable[Any]) -> Any:
        try:
            return await completed
        except Exception as raw:
            self.handle_error(raw, f.definition.type, f.nodes, path)
            return None

    def resolve(self, f: _Field, source: Any, info: ResolveInfo, path: Path) -> Any:
        """Call the field's resolver as Strawberry would: converted arguments, its Info."""
        strawberry_field = f.strawberry
        assert strawberry_field is not None
        strawberry_info = self.config.info_class(_raw_info=info, _field=strawberry_field)
        arguments = self.arguments.get(id(f))
        if arguments is None:
            arguments = self.arguments[id(f)] = self.argument_values(f, strawberry_info)
        if arguments.error is not None:
            if self.tape is not None:
                self.tape.fail(path, arguments.raw, arguments.error)
            raise arguments.error
        assert arguments.converted is not None
        kwargs = dict(arguments.converted)
        for name in f.source_names:
            kwargs[name] = source
        if f.info_name is not None:
            kwargs[f.info_name] = strawberry_info
        args = [source] if f.self_parameter else []
        if self.tape is None:
            return strawberry_field.get_result(
                source, info=strawberry_info, args=args, kwargs=kwargs
            )
        try:
            result = strawberry_field.get_result(
                source, info=strawberry_info, args=args, kwargs=kwargs
            )
        except Exception as error:
            self.tape.fail(path, arguments.raw, error)
            raise
        if is_awaitable(result):
            return self.tape.awaiting(path, arguments.raw, result)
        self.tape.answered(path, arguments.raw, result)
        return result

    def argument_values(self, f: _Field, info: Any) -> _Arguments:
        """graphql-core's argument values and Strawberry's conversion, once per request.

        Every item of a list asks with the same field node and variables, so the values
        are the same for all of them; an error is raised again for each item. The
        conversion (Strawberry resolves the argument types anew each time) is kept per
        field for the last few distinct values: resolvers read their arguments, never
        change them, so requests with equal values may share one conversion.
        """
        details = f.details[0]
        raw: dict[str, Any] | None = None
        try:
            raw = (
                get_argument_values(
                    f.definition,
                    details.node,
                    self.executor.variable_values,
                    details.fragment_variable_values,
                    self.executor.hide_suggestions,
                )
                if f.definition.args or details.node.arguments
                else {}
            )
            key = _frozen(raw)
            converted = None if key is None else f.conversions.get(key)
            if converted is None:
                assert f.strawberry is not None
                converted = convert_arguments(
                    raw,
                    f.strawberry.arguments,
                    scalar_registry=self.scalars,
                    config=self.config,
                    info=info,
                )
                if key is not None:
                    if len(f.conversions) >= _CONVERSIONS:
                        f.conversions.clear()
                    f.conversions[key] = converted
        except Exception as error:
            return _Arguments(raw, None, error)
        return _Arguments(raw, converted, None)

    async def complete_awaitable(
        self, f: _Field, info: ResolveInfo | None, path: Path, result: Any
    ) -> Any:
        try:
            resolved = await result
            completed = self.complete(f.completion, f, info, path, resolved)
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw:
            self.handle_error(raw, f.definition.type, f.nodes, path)
            completed = None
        return completed

    def complete(
        self,
        completion: Completion,
        f: _Field,
        info: ResolveInfo | None,
        path: Path,
        result: Any,
    ) -> Any:
        """graphql-core's ``complete_value`` for a planned type."""
        if isinstance(result, Exception):
            raise result
        kind = type(completion)
        if kind is _NonNull:
            assert isinstance(completion, _NonNull)
            completed = self.complete(completion.inner, f, info, path, result)
            if completed is None:
                raise TypeError(f.null_message)
            return completed
        if result is None or result is Undefined:
            return None
        if kind is _Object:
            assert isinstance(completion, _Object)
            return self.complete_object(completion, f, info, path, result)
        if kind is _Leaf:
            assert isinstance(completion, _Leaf)
            if type(result) is completion.plain:
                return result
            return _coerce(completion, result)
        if kind is _List:
            assert isinstance(completion, _List)
            return self.complete_list(completion, f, info, path, result)
        assert isinstance(completion, _Abstract)
        return self.complete_abstract(completion, f, info, path, result)

    def info_for(self, f: _Field, info: ResolveInfo | None, path: Path) -> Any:
        if info is not None:
            return info
        return self.executor.build_resolve_info(f.definition, f.nodes, f.parent, path)

    def complete_object(
        self,
        plan: _Object,
        f: _Field,
        info: ResolveInfo | None,
        path: Path,
        result: Any,
    ) -> Any:
        check = plan.is_type_of
        if check is not None:
            verdict = check(result, self.info_for(f, info, path) if plan.check_needs_info else None)
            if is_awaitable(verdict):

                async def checked() -> Any:
                    if not await verdict:
                        raise _invalid_return_type(plan, result, f)
                    fields = self.fields(plan, result, path)
                    return await fields if is_awaitable(fields) else fields

                return checked()
            if not verdict:
                raise _invalid_return_type(plan, result, f)
        return self.fields(plan, result, path)

    def complete_abstract(
        self,
        completion: _Abstract,
        f: _Field,
        info: ResolveInfo | None,
        path: Path,
        result: Any,
    ) -> Any:
        info = self.info_for(f, info, path)
        abstract = completion.output
        resolve_type = abstract.resolve_type or self.executor.type_resolver
        runtime = resolve_type(result, info, abstract)

        def complete(name: Any) -> Any:
            runtime_type = self.executor.ensure_valid_runtime_type(
                name, abstract, f.details, info, result
            )
            return self.complete_object(
                completion.objects[runtime_type.name], f, info, path, result
            )

        if is_awaitable(runtime):

            async def awaited() -> Any:
                value = complete(await runtime)  # type: ignore[misc]  # awaitable here
                return await value if is_awaitable(value) else value

            return awaited()
        return complete(runtime)

    def complete_list(
        self,
        completion: _List,
        f: _Field,
        info: ResolveInfo | None,
        path: Path,
        items: Any,
    ) -> Any:
        if not is_iterable(items):
            raise GraphQLError(
                f"Expected Iterable, but did not find one for field '{f.parent.name}.{f.name}'."
            )
        inner = completion.inner
        item_non_null = type(inner) is _NonNull
        completed: list[Any] = []
        pending: list[int] | None = None
        iterator = iter(items)
        index = 0
        try:
            for item in iterator:
                item_path = Path(path, index, None)
                if is_awaitable(item):
                    completed.append(self.complete_awaitable_item(inner, f, info, item_path, item))
                    if pending is None:
                        pending = []
                    pending.append(index)
                else:
                    try:
                        value = self.complete(inner, f, info, item_path, item)
                        if is_awaitable(value):
                            value = self.await_item(inner, f, item_path, value)
                            if pending is None:
                                pending = []
                            pending.append(index)
                        completed.append(value)
                    except Exception as raw:
                        self.handle_item_error(raw, item_non_null, f, item_path)
                        completed.append(None)
                index += 1
        except Exception:
            waiting = [completed[i] for i in pending or ()]
            waiting.extend(item for item in iterator if is_awaitable(item))
            if waiting:
                self.executor.settle_in_background(waiting)
            raise
        if pending is None:
            return completed
        waiting_indices = pending

        async def gathered() -> list[Any]:
            if len(waiting_indices) == 1:
                completed[waiting_indices[0]] = await completed[waiting_indices[0]]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in waiting_indices))
                for i, value in zip(waiting_indices, awaited, strict=True):
                    completed[i] = value
            return completed

        return gathered()

    def handle_item_error(self, raw: Exception, non_null: bool, f: _Field, path: Path) -> None:
        error = located_error(raw, f.nodes, path.as_list())
        if self.propagate and non_null:
            raise error
        self.errors.add(error, path)

    async def await_item(
        self, inner: Completion, f: _Field, path: Path, completed: Awaitable[Any]
    ) -> Any:
        try:
            return await completed
        except Exception as raw:
            self.handle_item_error(raw, type(inner) is _NonNull, f, path)
            return None

    async def complete_awaitable_item(
        self,
        inner: Completion,
        f: _Field,
        info: ResolveInfo | None,
        path: Path,
        item: Awaitable[Any],
    ) -> Any:
        try:
            resolved = await item
            completed = self.complete(inner, f, info, path, resolved)
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw:
            self.handle_item_error(raw, type(inner) is _NonNull, f, path)
            return None
        return completed


def _frozen(value: Any) -> Hashable | None:
    """A hashable form of coerced argument values (types kept: 1 and True differ); None
    when a value has no such form."""
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            frozen = _frozen(v)
            if frozen is None and v is not None:
                return None
            items.append((k, frozen))
        return (dict, tuple(sorted(items)))
    if isinstance(value, list):
        parts = []
        for v in value:
            frozen = _frozen(v)
            if frozen is None and v is not None:
                return None
            parts.append(frozen)
        return (list, tuple(parts))
    if value is None or isinstance(value, str | int | float | enum.Enum | datetime):
        return (type(value), value)
    return None


def _coerce(leaf: _Leaf, value: Any) -> Any:
    """graphql-core's ``complete_leaf_value``."""
    coerced = leaf.coerce(value)
    if coerced is None or coerced is Undefined:
        raise TypeError(
            f"Expected `{inspect(leaf.output)}.coerce_output_value({inspect(value)})`"
            f" to return non-nullable value, returned: {inspect(coerced)}"
        )
    return coerced


def _invalid_return_type(plan: _Object, result: Any, f: _Field) -> GraphQLError:
    return GraphQLError(
        f"Expected value of type '{plan.output}' but got: {inspect(result)}.", f.nodes
    )


# --- the executor ----------------------------------------------------------------------


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, running planned operations on the fast path (see above)."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        """The operation on its plan when it has one (and ``MODE`` allows), else graphql-core."""
        if MODE == "reference" or serially or self._has_middleware():
            return super().execute_operation(serially)
        plan = PLANS.get((self.schema, self.operation), None, lambda: _plan(self))
        if plan is None:
            return super().execute_operation(serially)
        if MODE == "compare":
            return self._compare(plan)
        return _Run(self, plan, None).run()

    def _has_middleware(self) -> bool:
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    async def _compare(self, plan: OperationPlan) -> ExecutionResult:
        """The plan, then graphql-core over the same resolver outcomes; differences recorded."""
        reference = copy(self)
        reference.collected_errors = CollectedErrors()
        tape = _Tape()
        fast = _Run(self, plan, tape).run()
        if not isinstance(fast, ExecutionResult):
            fast = await fast
        reference.middleware_manager = MiddlewareManager(tape)
        expected = StrawberryGraphQLCoreExecutionContext.execute_operation(reference)
        if not isinstance(expected, ExecutionResult):
            expected = await expected  # type: ignore[misc]  # never incremental: no @defer
        difference = _difference(fast, expected, tape)
        if difference is not None:
            described = f"{difference}\noperation:\n{print_ast(self.operation)}"
            MISMATCHES.append(described)
            logger.error("fast path differs from graphql-core: %s", described)
        return fast


class _Taped(NamedTuple):
    arguments: dict[str, Any] | None
    value: Any
    error: Exception | None


@dataclass
class _Tape:
    """What each resolver the fast path called got and gave, by response path."""

    entries: dict[tuple[str | int, ...], _Taped] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def answered(self, path: Path, arguments: dict[str, Any] | None, value: Any) -> None:
        """A resolver answered ``value``."""
        self.entries[tuple(path.as_list())] = _Taped(arguments, value, None)

    def fail(self, path: Path, arguments: dict[str, Any] | None, error: Exception) -> None:
        """A resolver (or its arguments) raised ``error``."""
        self.entries[tuple(path.as_list())] = _Taped(arguments, None, error)

    async def awaiting(self, path: Path, arguments: dict[str, Any] | None, result: Any) -> Any:
        """The resolver's awaitable, its outcome taped once it settles."""
        try:
            value = await result
        except Exception as error:
            self.fail(path, arguments, error)
            raise
        self.answered(path, arguments, value)
        return value

    def resolve(self, next_: Any, source: Any, info: ResolveInfo, **arguments: Any) -> Any:
        """graphql-core middleware: a resolver's taped outcome instead of calling it again."""
        definition = info.parent_type.fields.get(info.field_name)
        strawberry_field = (
            None if definition is None else (definition.extensions or {}).get(_BACKREF)
        )
        if (
            not isinstance(strawberry_field, StrawberryField)
            or strawberry_field.base_resolver is None
        ):
            return next_(source, info, **arguments)
        path = tuple(info.path.as_list())
        taped = self.entries.get(path)
        if taped is None:
            self.problems.append(f"graphql-core resolved {list(path)}, the fast path did not")
            raise RuntimeError(f"not taped: {list(path)}")
        if taped.arguments is not None and taped.arguments != arguments:
            self.problems.append(
                f"arguments at {list(path)}: fast {taped.arguments!r}, graphql-core {arguments!r}"
            )
        if taped.error is not None:
            raise taped.error
        return taped.value


def _error_shape(error: GraphQLError) -> tuple[Any, ...]:
    return (
        error.message,
        None if error.path is None else tuple(error.path),
        tuple((loc.line, loc.column) for loc in error.locations or ()),
        repr(error.extensions),
        type(error.original_error).__name__,
    )


def _difference(fast: ExecutionResult, expected: ExecutionResult, tape: _Tape) -> str | None:
    """What differs between the two results (and the resolvers' arguments), or None."""
    found = list(tape.problems)
    if fast.data != expected.data:
        found.append(f"data: fast {fast.data!r}\n  graphql-core {expected.data!r}")
    ours = sorted(map(_error_shape, fast.errors or ()), key=repr)
    theirs = sorted(map(_error_shape, expected.errors or ()), key=repr)
    if ours != theirs:
        found.append(f"errors: fast {ours!r}\n  graphql-core {theirs!r}")
    return "\n".join(found) if found else None
