"""A small, generic XML-RPC protocol for spyne: methodCall in, methodResponse or fault out.

Parameters are positional, matched in order against the method's declared
arguments and checked against their spyne types; a missing trailing argument
takes its declared default (`default=` or `default_factory=`) and is an error
if it has none. Return values are converted by their declared type; the wire
format is the standard library's XML-RPC marshalling.

Every failure becomes an XML-RPC fault (HTTP 200, as XML-RPC clients expect)
whose integer code is chosen from the spyne fault code (see FAULT_CODES).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import xmlrpc.client
from decimal import Decimal as PyDecimal
from xml.parsers.expat import ExpatError

from spyne.const.http import HTTP_200
from spyne.error import ResourceNotFoundError, ValidationError
from spyne.model import (
    AnyDict,
    Array,
    Boolean,
    ByteArray,
    ComplexModelBase,
    DateTime,
    Decimal,
    Fault,
    Integer,
    Unicode,
)
from spyne.protocol import ProtocolBase

logger = logging.getLogger(__name__)

# Interoperable fault codes (xmlrpc-epi's "specification for fault code
# interoperability") for protocol-level errors, HTTP-like codes for
# application errors, so a client can tell them apart.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TRANSPORT_ERROR = -32300
INVALID_VALUE = 400
AUTHENTICATION_FAILED = 401
PERMISSION_DENIED = 403
NOT_FOUND = 404

# spyne fault code (exact, or its first dotted part) -> XML-RPC fault code.
FAULT_CODES: dict[str, int] = {
    "Client.XmlRpcParseError": PARSE_ERROR,
    "Client.XmlRpcInvalidRequest": INVALID_REQUEST,
    "Client.MethodNotFound": METHOD_NOT_FOUND,
    "Client.ValidationError": INVALID_PARAMS,
    "Client.ArgumentError": INVALID_PARAMS,
    "Client.InvalidInput": INVALID_PARAMS,
    "Client.RequestTooLong": TRANSPORT_ERROR,
    "Client.RequestNotAllowed": TRANSPORT_ERROR,
    "Client.InvalidValue": INVALID_VALUE,
    "Client.InvalidCredentialsError": AUTHENTICATION_FAILED,
    "Client.AccessDenied": PERMISSION_DENIED,
    "Client.ResourceNotFound": NOT_FOUND,
    "Client": INVALID_REQUEST,
    "Server": INTERNAL_ERROR,
}

# Characters XML 1.0 cannot carry, not even as character references.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_NESTING = 32


class XmlRpcParseError(Fault):
    CODE = "Client.XmlRpcParseError"

    def __init__(self, message: str):
        super().__init__(self.CODE, message)


class XmlRpcInvalidRequest(Fault):
    CODE = "Client.XmlRpcInvalidRequest"

    def __init__(self, message: str):
        super().__init__(self.CODE, message)


class MethodNotFound(Fault):
    CODE = "Client.MethodNotFound"

    def __init__(self, name: str):
        super().__init__(self.CODE, f"Unknown method {name!r}")


class InvalidValue(Fault):
    """A well-formed call with a value the application cannot accept."""

    CODE = "Client.InvalidValue"

    def __init__(self, message: str):
        super().__init__(self.CODE, message)


class AccessDenied(Fault):
    """The caller is authenticated but may not do this."""

    CODE = "Client.AccessDenied"

    def __init__(self, message: str):
        super().__init__(self.CODE, message)


def fault_code(fault: Fault) -> int:
    """The XML-RPC fault code for a spyne fault."""
    code = str(fault.faultcode or "Server")
    return FAULT_CODES.get(code) or FAULT_CODES.get(code.split(".")[0], INTERNAL_ERROR)


def fault_response(code: int, message: str) -> bytes:
    """A serialized XML-RPC fault, for errors raised before spyne is involved."""
    return xmlrpc.client.dumps(
        xmlrpc.client.Fault(code, message), methodresponse=True, encoding="utf-8"
    ).encode("utf-8")


class XmlRpc(ProtocolBase):
    """XML-RPC (http://xmlrpc.com/spec.md) as a spyne input and output protocol."""

    mime_type = "text/xml; charset=utf-8"

    # --- input -------------------------------------------------------------

    def create_in_document(self, ctx, in_string_encoding=None):
        body = b"".join(ctx.in_string)
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise XmlRpcParseError("Malformed XML-RPC request: DTDs are not allowed")
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except ExpatError as exc:
            raise XmlRpcParseError(f"Malformed XML-RPC request: {exc}") from exc
        except (ValueError, TypeError, KeyError, IndexError, xmlrpc.client.Error) as exc:
            raise XmlRpcParseError(f"Malformed XML-RPC request: {exc!s}") from exc
        if not method:
            raise XmlRpcInvalidRequest("Not an XML-RPC methodCall: no methodName")
        ctx.in_document = (method, params)

    def decompose_incoming_envelope(self, ctx, message):
        method, params = ctx.in_document
        ctx.transport.in_header_doc = None
        ctx.in_header_doc = None
        ctx.in_body_doc = params
        ctx.method_request_string = f"{{{self.app.interface.get_tns()}}}{method}"

    def generate_method_contexts(self, ctx):
        try:
            return super().generate_method_contexts(ctx)
        except ResourceNotFoundError:
            raise MethodNotFound(ctx.in_document[0]) from None

    def deserialize(self, ctx, message):
        self.event_manager.fire_event("before_deserialize", ctx)
        if ctx.descriptor is None:
            raise MethodNotFound(ctx.in_document[0])
        in_cls = ctx.descriptor.in_message
        arguments = list(in_cls.get_flat_type_info(in_cls).items()) if in_cls else []
        params = ctx.in_body_doc
        name = ctx.descriptor.name
        if len(params) > len(arguments):
            raise ValidationError(
                None,
                f"{name}() takes at most {len(arguments)} argument(s), {len(params)} given",
            )
        values = []
        for index, (arg_name, arg_type) in enumerate(arguments):
            attrs = arg_type.Attributes
            if index < len(params) and params[index] is not None:
                values.append(self.from_value(arg_type, params[index], f"{name}: {arg_name}"))
                continue
            if attrs.default_factory is not None:
                values.append(attrs.default_factory())
            elif attrs.default is not None:
                values.append(attrs.default)
            elif index < len(params) and attrs.nullable:
                values.append(None)
            elif index < len(params):
                raise ValidationError(None, f"{name}: {arg_name} may not be nil")
            else:
                raise ValidationError(None, f"{name}() is missing argument {arg_name!r}")
        ctx.in_object = values
        self.event_manager.fire_event("after_deserialize", ctx)

    def from_value(self, cls, value, where: str, depth: int = 0):
        """Check one incoming value against its spyne type; returns the Python value."""
        if depth > _MAX_NESTING:
            raise ValidationError(None, f"{where}: nested too deeply")
        if value is None:
            if cls.Attributes.nullable:
                return None
            raise ValidationError(None, f"{where} may not be nil")
        for spyne_type, convert in self._FROM_VALUE:
            if issubclass(cls, spyne_type):
                return convert(self, cls, value, where, depth)
        return self._plain(value, where, depth)

    def _boolean(self, cls, value, where: str, depth: int):
        if isinstance(value, bool):
            return value
        return self._mismatch(where, "a boolean", value)

    def _integer(self, cls, value, where: str, depth: int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return self._mismatch(where, "an integer", value)

    def _number(self, cls, value, where: str, depth: int):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return self._mismatch(where, "a number", value)

    def _string(self, cls, value, where: str, depth: int):
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return self._mismatch(where, "a UTF-8 string", value)
        return self._mismatch(where, "a string", value)

    def _datetime(self, cls, value, where: str, depth: int):
        if isinstance(value, dt.datetime):
            return _aware(value)
        return self._mismatch(where, "a dateTime.iso8601", value)

    def _bytes(self, cls, value, where: str, depth: int):
        if isinstance(value, bytes):
            return value
        return self._mismatch(where, "base64 data", value)

    def _dict(self, cls, value, where: str, depth: int):
        if isinstance(value, dict):
            return self._plain(value, where, depth)
        return self._mismatch(where, "a struct", value)

    def _array(self, cls, value, where: str, depth: int):
        if isinstance(value, list):
            inner = cls.get_inner_type()
            return [self.from_value(inner, item, where, depth + 1) for item in value]
        return self._mismatch(where, "an array", value)

    def _struct(self, cls, value, where: str, depth: int):
        if not isinstance(value, dict):
            return self._mismatch(where, "a struct", value)
        members = cls.get_flat_type_info(cls)
        return cls(
            **{
                key: self.from_value(members[key], item, f"{where}.{key}", depth + 1)
                for key, item in value.items()
                if key in members
            }
        )

    # from_value's checks by spyne type, the first that cls is a subclass of (in this
    # order: Integer is a Decimal, Array a ComplexModelBase); other types pass as is.
    _FROM_VALUE = (
        (Boolean, _boolean),
        (Integer, _integer),
        (Decimal, _number),
        (Unicode, _string),
        (DateTime, _datetime),
        (ByteArray, _bytes),
        (AnyDict, _dict),
        (Array, _array),
        (ComplexModelBase, _struct),
    )

    def _plain(self, value, where: str, depth: int):
        """An untyped value: naive datetimes read as UTC, nesting bounded."""
        if depth > _MAX_NESTING:
            raise ValidationError(None, f"{where}: nested too deeply")
        if isinstance(value, dict):
            return {key: self._plain(item, where, depth + 1) for key, item in value.items()}
        if isinstance(value, list):
            return [self._plain(item, where, depth + 1) for item in value]
        if isinstance(value, dt.datetime):
            return _aware(value)
        return value

    @staticmethod
    def _mismatch(where: str, expected: str, value):
        kind = "nil" if value is None else type(value).__name__
        raise ValidationError(None, f"{where} must be {expected}, not {kind}")

    # --- output ------------------------------------------------------------

    def serialize(self, ctx, message):
        self.event_manager.fire_event("before_serialize", ctx)
        if ctx.out_error is not None:
            ctx.out_document = ctx.out_error
            return
        out_cls = ctx.descriptor.out_message
        results = list(out_cls.get_flat_type_info(out_cls).values()) if out_cls else []
        value = ctx.out_object[0] if ctx.out_object else None
        ctx.out_document = (self.to_value(results[0], value),) if results else (None,)
        self.event_manager.fire_event("after_serialize", ctx)

    def to_value(self, cls, value):
        """Convert one outgoing value to what the XML-RPC marshaller accepts."""
        if issubclass(cls, Array):
            inner = cls.get_inner_type()
            return [self.to_value(inner, item) for item in (value or ())]
        if issubclass(cls, ComplexModelBase) and not issubclass(cls, AnyDict):
            # XML-RPC has no null struct: an absent object is an empty struct.
            if value is None:
                return {}
            members = cls.get_flat_type_info(cls)
            get = value.get if isinstance(value, dict) else lambda k: getattr(value, k, None)
            return {key: self.to_value(member, get(key)) for key, member in members.items()}
        if value is None:
            return None
        if issubclass(cls, Boolean):
            return bool(value)
        if issubclass(cls, Integer):
            return int(value)
        if issubclass(cls, Decimal):
            return float(value)
        if issubclass(cls, DateTime):
            if value.tzinfo:
                value = value.astimezone(dt.UTC)
            fmt = cls.Attributes.format or cls.Attributes.dt_format
            return value.strftime(fmt) if fmt else value.replace(tzinfo=None)
        if issubclass(cls, ByteArray):
            return xmlrpc.client.Binary(bytes(value))
        if issubclass(cls, Unicode):
            return _text(str(value))
        return self._plain_out(value)

    def _plain_out(self, value):
        if isinstance(value, dict):
            return {str(key): self._plain_out(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._plain_out(item) for item in value]
        if isinstance(value, str):
            return _text(value)
        if isinstance(value, PyDecimal):
            return float(value)
        return value

    def create_out_string(self, ctx, out_string_encoding="utf8"):
        if ctx.out_error is not None:
            error = ctx.out_error
            message = str(error.faultstring or error.faultcode)
            payload = xmlrpc.client.Fault(fault_code(error), _XML_ILLEGAL.sub("?", message))
        else:
            payload = ctx.out_document
        text = xmlrpc.client.dumps(payload, methodresponse=True, allow_none=True, encoding="utf-8")
        ctx.out_string = [text.encode("utf-8")]

    def fault_to_http_response_code(self, fault):
        # XML-RPC clients only read a fault from an HTTP 200 response.
        return HTTP_200


def _text(value: str):
    """A string, or base64 UTF-8 when it holds characters XML cannot carry."""
    if _XML_ILLEGAL.search(value):
        return xmlrpc.client.Binary(value.encode("utf-8", "surrogateescape"))
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    # dateTime.iso8601 carries no zone: read it as UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
