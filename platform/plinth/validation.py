"""Request validation: JSON bodies against the schemas published in OpenAPI.

A view declares ``body_schema=`` (a JSON Schema that is also placed in the
OpenAPI document); the view deriver below checks the content type (415), size
(413, enforced by the tween in :mod:`plinth.tweens`), JSON syntax and the
schema (400 with one detail per problem) before the view runs, and leaves the
parsed body in ``request.validated``.  Validators are compiled once.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request

from .errors import api_error
from .viewsecurity import view_name


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # JSON Schema patterns are ECMA 262, where "$" ends the string; Python's
    # "$" also matches before a final newline, which let "admin\n" through.
    if not validator.is_type(instance, "string"):
        return
    found = re.search(pattern, instance)
    if found is None or (pattern.endswith("$") and found.end() != len(instance)):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 2020-12, the dialect of the OpenAPI document, with ECMA 262 patterns
# as that dialect specifies.
StrictValidator = validators.extend(Draft202012Validator, validators={"pattern": _pattern})

_validators: dict[int, Any] = {}


def validator_for(schema: dict[str, Any]) -> Any:
    key = id(schema)
    validator = _validators.get(key)
    if validator is None:
        validator = _validators[key] = StrictValidator(schema, format_checker=FormatChecker())
    return validator


def _json_number(literal: str) -> float | int:
    # JSON has one kind of number, and JSON Schema 2020-12 calls 4302.0 an
    # integer: the view receives it as one.
    number = float(literal)
    return int(number) if number.is_integer() else number


def parse_json_body(request: Request) -> Any:
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise api_error(
            415,
            message="send the request body as application/json",
            details={"content_type": request.content_type or None},
        )
    try:
        text = request.body.decode("utf-8")
        value = json.loads(text, parse_float=_json_number)
    except (UnicodeDecodeError, ValueError) as exc:
        raise api_error(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise api_error(400, "invalid_json", "the body is nested too deeply") from None
    # JSON may spell characters no database stores: lone surrogates (\ud800)
    # and NUL (PostgreSQL refuses it in text).  Refuse them here, clearly.
    if "\\u" in text or "\x00" in text:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise api_error(
                400, "invalid_json", "the body contains an unpaired surrogate (\\ud800-\\udfff)"
            ) from None
        if "\\u0000" in text.lower() or "\x00" in text:
            raise api_error(400, "invalid_json", "NUL characters are not allowed in text")
    return value


def validate(schema: dict[str, Any], value: Any, where: str = "body") -> Any:
    errors = sorted(
        validator_for(schema).iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        problems = [p for error in errors for p in _problems(error, where)][:20]
        raise api_error(
            400, "invalid_request", f"the request {where} is not valid", {"errors": problems}
        )
    return value


def _problems(error: Any, where: str) -> list[dict[str, Any]]:
    """What a client should be told about one validation error.

    For a failed oneOf/anyOf ("not valid under any of the given schemas", which
    tells a client nothing) it reports the alternative the body meant: the one
    whose discriminating enum (e.g. ``kind``) matched.  When none matched, it
    names all the values that would have.
    """
    if error.validator == "not":
        hint = error.schema.get("description")
        message = f"{error.instance!r} is not allowed here" + (f" ({hint})" if hint else "")
        return [{"location": where, "field": _field(error), "message": message}]
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [{"location": where, "field": _field(error), "message": error.message}]
    depth = len(error.absolute_path) + 1
    alternatives: dict[Any, list[Any]] = {}
    for sub in error.context:
        alternatives.setdefault(sub.relative_schema_path[0], []).append(sub)

    def mismatched(errors: list[Any]) -> list[Any]:
        return [e for e in errors if e.validator == "enum" and len(e.absolute_path) == depth]

    meant = [errors for errors in alternatives.values() if not mismatched(errors)]
    if meant:
        return [p for e in min(meant, key=len) for p in _problems(e, where)]
    enums = [e for errors in alternatives.values() for e in mismatched(errors)]
    allowed = [v for e in enums for v in e.validator_value]
    return [
        {
            "location": where,
            "field": _field(enums[0]),
            "message": f"{enums[0].instance!r} is not one of {allowed!r}",
        }
    ]


def _field(error: Any) -> str | None:
    """The field a validation error is about, as a /-separated path."""
    path = [str(p) for p in error.absolute_path]
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        path += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = error.schema.get("properties", {})
        extra = [name for name in instance if name not in allowed]
        path += extra[:1]
    return "/".join(path) or None


def body_schema_deriver(view: Any, info: Any) -> Any:
    """``body_schema=``: the body is JSON valid under this schema, in ``request.validated``.

    A schema that is not valid JSON Schema stops start-up with one line
    naming the view, instead of answering 500 to the first request.
    """
    schema = info.options.get("body_schema")
    if schema is None:
        return view
    try:
        StrictValidator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "its top level"
        raise ConfigurationError(
            f"view {view_name(info.original_view)} has a body_schema that is not valid "
            f"JSON Schema (at {where}): {exc.message}"
        ) from None
    # A view whose permissions depend on the body still answers 401 to a
    # caller without credentials before looking at the body.
    needs_identity = info.options.get("permits") is not None

    def validating_view(context: Any, request: Request) -> Any:
        if needs_identity and request.identity is None:
            raise HTTPForbidden()
        request.validated = validate(schema, parse_json_body(request))
        return view(context, request)

    return validating_view


body_schema_deriver.options = ("body_schema",)  # type: ignore[attr-defined]


def includeme(config: Any) -> None:
    # Outer to inner: idempotency replay, body validation, body-dependent
    # permissions (plinth.viewsecurity), then the view.
    config.add_view_deriver(body_schema_deriver, under="decorated_view", over="permits_deriver")
