"""Clever's Swagger 2.0 definitions as JSON Schema validators, strict about unknown fields.

Swagger's ``x-nullable`` becomes ``null`` allowed; every object with ``properties`` gets
``additionalProperties: false`` so a field Clever does not send fails. Allowed on top of the spec,
because real payloads carry them (``../shared/research/clever-api.md`` §2.2, the samples): the
per-item ``uri`` and the single-object ``links``, and the ``email`` inside a student role.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SKIPPED_KEYS = {"discriminator", "example", "description", "x-validation", "x-nullable", "required"}


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in SKIPPED_KEYS and not k.startswith("x-")}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("x-nullable"):
        if "$ref" in out:
            out = {"anyOf": [{"$ref": out["$ref"]}, {"type": "null"}]}
        elif isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def definitions(spec_path: Path) -> dict[str, Any]:
    """The converted definitions of one spec file, with the allowed extras added."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    defs: dict[str, Any] = _convert(spec["definitions"])
    for name, schema in defs.items():
        props = schema.get("properties", {})
        if name.endswith("Response") and not name.endswith("sResponse") and "data" in props:
            props["uri"] = {"type": "string", "pattern": "^/v3\\.[01]/[a-z]+/[0-9a-f]{24}$"}
            props["links"] = {"type": "array", "items": {"$ref": "#/definitions/Link"}}
    defs["Student"]["properties"]["email"] = {"type": "string"}
    if "Event" in defs:
        _flatten_events(defs)
    return defs


def _flatten_events(defs: dict[str, Any]) -> None:
    """Events: the polymorphic base stays open; each concrete type is checked strictly on its own.

    Clever sends ``previous_attributes`` inside ``data`` beside ``object`` (recorded events,
    clever-samples/v1.2-events-list.json; clever-python #61 lost it by following the spec, which
    puts it beside ``data``), with old values of any type (the spec says objects only).
    """
    base = defs["Event"]
    base.pop("additionalProperties", None)
    for name, schema in defs.items():
        if name.endswith("Object") and "object" in schema.get("properties", {}):
            schema["properties"]["previous_attributes"] = {"type": "object"}
        if name.endswith((".created", ".updated", ".deleted")):
            props = {**base["properties"], **schema["allOf"][1]["properties"]}
            props.pop("previous_attributes", None)
            defs[name] = {"type": "object", "properties": props, "additionalProperties": False}


def validator(spec_path: Path, definition: str) -> jsonschema.Draft7Validator:
    """A validator for one definition of the spec."""
    schema = {"definitions": copy.deepcopy(definitions(spec_path)), "$ref": f"#/definitions/{definition}"}
    return jsonschema.Draft7Validator(schema)


def errors(spec_path: Path, definition: str, instance: Any) -> list[str]:
    """Every validation error, as ``path: message``."""
    found = validator(spec_path, definition).iter_errors(instance)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def response_definition(spec: dict[str, Any], path: str) -> str:
    """The 200 schema name of a spec path, e.g. ``UsersResponse``."""
    ref: str = spec["paths"][path]["get"]["responses"]["200"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


@functools.cache
def load_spec(spec_path: Path) -> dict[str, Any]:
    """The raw Swagger document."""
    loaded: dict[str, Any] = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    return loaded
