"""The API's contract, served: GET /api/v1/openapi.json (the OpenAPI document) and GET /api/v1/docs
(the same as a page: each operation with its parameters, body and answers; no script). Both are
public: the contract holds no one's data. The document (app/api/openapi.py, about 2 MB in memory)
is loaded when first asked for, not by every worker at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import jsonify, render_template
from markupsafe import Markup, escape

from app.api.blueprint import bp

# --- the page's view of a schema -----------------------------------------------------------


@dataclass
class Property:
    name: str
    required: bool
    shape: Shape
    description: str = ""


@dataclass
class Shape:
    """A schema as the page shows it: a one-line type (links to named schemas) and, for an inline
    object, its fields; for a choice (oneOf), each variant."""

    label: Markup
    fields: list[Property] = field(default_factory=list)
    variants: list[Shape] = field(default_factory=list)
    description: str = ""


def prose(text: str) -> Markup:
    """A description's text, escaped, with its `code spans` (the document's only Markdown) as <code>."""
    parts = text.split("`")
    return Markup("").join(Markup("<code>{}</code>").format(part) if n % 2 else part for n, part in enumerate(parts))


def _schema_name(reference: str) -> str:
    return reference.rsplit("/", 1)[-1]


def _link(name: str) -> Markup:
    return Markup('<a href="#schema-{0}">{0}</a>').format(name)


def _literal(value) -> str:
    return "null" if value is None else f'"{value}"' if isinstance(value, str) else str(value).lower()


def shape_of(schema: dict) -> Shape:
    """How the page shows `schema` (named schemas become links, not copies)."""
    description = schema.get("description", "")
    if "$ref" in schema:
        return Shape(_link(_schema_name(schema["$ref"])), description=description)
    if "allOf" in schema:
        parts = [shape_of(part) for part in schema["allOf"]]
        return Shape(
            Markup(" & ").join(part.label for part in parts),
            fields=[item for part in parts for item in part.fields],
            description=description,
        )
    if "oneOf" in schema:
        variants = [shape_of(variant) for variant in schema["oneOf"]]
        return Shape(Markup(" | ").join(v.label for v in variants), variants=variants, description=description)
    if "const" in schema:
        return Shape(escape(_literal(schema["const"])), description=description)
    if "enum" in schema:
        label = " | ".join(_literal(value) for value in schema["enum"])
        if "default" in schema:
            label += f" = {_literal(schema['default'])}"
        return Shape(escape(label), description=description)
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    labels = []
    fields: list[Property] = []
    for kind in kinds:
        if kind == "array":
            labels.append(Markup("array&lt;{}&gt;").format(shape_of(schema.get("items", {})).label))
            fields = shape_of(schema.get("items", {})).fields
        elif kind == "object" and "properties" in schema:
            labels.append(Markup("object"))
            required = set(schema.get("required", ()))
            fields = [
                Property(name, name in required, shape_of(part), part.get("description", ""))
                for name, part in schema["properties"].items()
            ]
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            labels.append(Markup("map&lt;string, {}&gt;").format(shape_of(schema["additionalProperties"]).label))
        elif kind == "string" and "format" in schema:
            labels.append(escape(f"string ({schema['format']})"))
        elif kind == "integer" and ("minimum" in schema or "maximum" in schema):
            labels.append(escape(f"integer ({schema.get('minimum', '')}–{schema.get('maximum', '')})"))
        else:
            labels.append(escape(kind))
    label = Markup(" | ").join(labels)
    if "default" in schema:
        label += Markup(" = {}").format(_literal(schema["default"]))
    return Shape(label, fields=fields, description=description)


# --- the page's view of the operations -----------------------------------------------------


@dataclass
class Answer:
    status: str
    description: str
    shapes: dict[str, Shape]


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    needs_token: bool
    parameters: list[dict]
    body: Shape | None
    body_required: bool
    answers: list[Answer]


def operations_by_tag(document: dict) -> list[tuple[dict, list[Operation]]]:
    from app.api.openapi import PREFIX

    shared = document["components"]["responses"]
    groups: dict[str, list[Operation]] = {tag["name"]: [] for tag in document["tags"]}
    for route, methods in document["paths"].items():
        for method, entry in methods.items():
            answers = []
            for status, answer in entry["responses"].items():
                answer = shared[_schema_name(answer["$ref"])] if "$ref" in answer else answer
                shapes = {media: shape_of(body["schema"]) for media, body in answer.get("content", {}).items()}
                answers.append(Answer(status, answer["description"], shapes))
            body = entry.get("requestBody")
            groups[entry["tags"][0]].append(
                Operation(
                    method=method.upper(),
                    path=PREFIX + route,
                    anchor=entry["operationId"],
                    summary=entry["summary"],
                    description=entry.get("description", ""),
                    needs_token=entry.get("security", document["security"]) != [],
                    parameters=[
                        {**parameter, "shape": shape_of(parameter["schema"])}
                        for parameter in entry.get("parameters", [])
                    ],
                    body=shape_of(body["content"]["application/json"]["schema"]) if body else None,
                    body_required=bool(body and body["required"]),
                    answers=answers,
                )
            )
    return [(tag, groups[tag["name"]]) for tag in document["tags"]]


@bp.route("/openapi.json")
def openapi():
    """The contract; public, no token."""
    from app.api.openapi import build_document

    return jsonify(build_document())


@bp.route("/docs")
def docs():
    """The contract as a page."""
    from app.api.openapi import build_document

    document = build_document()
    return render_template(
        "api/docs.html",
        document=document,
        groups=operations_by_tag(document),
        schemas={name: shape_of(schema) for name, schema in document["components"]["schemas"].items()},
        prose=prose,
    )
