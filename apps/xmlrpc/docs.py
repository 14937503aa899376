"""Documentation of an XML-RPC spyne application, read from its service definitions."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from spyne.model import (
    AnyDict,
    Array,
    Boolean,
    ByteArray,
    ComplexModelBase,
    DateTime,
    Decimal,
    Integer,
    Unicode,
)

from apps.xmlrpc import protocol


@dataclass
class Argument:
    name: str
    type: str
    default: str | None  # None: required


@dataclass
class Method:
    name: str
    arguments: list[Argument]
    returns: str
    doc: str
    auth: bool

    @property
    def signature(self) -> str:
        parts = [
            f"{a.name}: {a.type}" + (f" = {a.default}" if a.default is not None else "")
            for a in self.arguments
        ]
        return f"{self.name}({', '.join(parts)}) → {self.returns}"


@dataclass
class Shape:
    name: str
    doc: str
    fields: list[tuple[str, str]] = field(default_factory=list)


def type_label(cls, shapes: dict[str, Any] | None = None) -> str:
    """A short name for a spyne type as XML-RPC sees it; collects struct types in shapes."""
    if issubclass(cls, Array):
        return f"array of {type_label(cls.get_inner_type(), shapes)}"
    if issubclass(cls, AnyDict):
        return "struct"
    if issubclass(cls, ComplexModelBase):
        name = cls.get_type_name()
        if shapes is not None and name not in shapes:
            shapes[name] = cls
            for member in cls.get_flat_type_info(cls).values():
                type_label(member, shapes)
        return name
    if issubclass(cls, Boolean):
        return "boolean"
    if issubclass(cls, Integer):
        return "int"
    if issubclass(cls, Decimal):
        return "double"
    if issubclass(cls, DateTime):
        fmt = cls.Attributes.format or cls.Attributes.dt_format
        return f"string ({fmt})" if fmt else "dateTime.iso8601"
    if issubclass(cls, ByteArray):
        return "base64"
    if issubclass(cls, Unicode):
        return "string"
    return "any"


def _default_label(cls) -> str | None:
    attrs = cls.Attributes
    if attrs.default_factory is not None:
        return repr(attrs.default_factory()).replace("'", '"')
    if attrs.default is not None:
        return repr(attrs.default).replace("'", '"')
    return None


def application_docs(app) -> tuple[list[Method], list[Shape]]:
    """Every public method of the application, and the struct shapes they use."""
    methods: list[Method] = []
    shapes: dict[str, Any] = {}  # spyne struct classes
    for service in app.services:
        for descriptor in service.public_methods.values():
            in_cls = descriptor.in_message
            arguments = [
                Argument(name, type_label(cls, shapes), _default_label(cls))
                for name, cls in in_cls.get_flat_type_info(in_cls).items()
            ]
            out_cls = descriptor.out_message
            results = list(out_cls.get_flat_type_info(out_cls).values())
            returns = type_label(results[0], shapes) if results else "nil"
            methods.append(
                Method(
                    name=descriptor.name,
                    arguments=arguments,
                    returns=returns,
                    doc=inspect.cleandoc(descriptor.doc or ""),
                    auth=bool(descriptor.udd.auth),
                )
            )
    shape_docs = [
        Shape(
            name=name,
            doc=inspect.cleandoc(cls.__doc__ or ""),
            fields=[(k, type_label(v)) for k, v in cls.get_flat_type_info(cls).items()],
        )
        for name, cls in shapes.items()
    ]
    return methods, shape_docs


FAULTS = [
    (protocol.PARSE_ERROR, "the request is not well-formed XML-RPC"),
    (protocol.INVALID_REQUEST, "the request is not a valid XML-RPC methodCall"),
    (protocol.METHOD_NOT_FOUND, "no such method"),
    (protocol.INVALID_PARAMS, "wrong number or types of arguments"),
    (protocol.INTERNAL_ERROR, "an unexpected error on the server"),
    (protocol.TRANSPORT_ERROR, "the HTTP request itself was refused (method, size)"),
    (protocol.INVALID_VALUE, "an argument value the server cannot accept"),
    (protocol.AUTHENTICATION_FAILED, "credentials missing or wrong"),
    (protocol.PERMISSION_DENIED, "authenticated, but not allowed to do this"),
    (protocol.NOT_FOUND, "the object to change does not exist"),
]
