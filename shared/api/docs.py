"""A readable page of the API, rendered on the server from the OpenAPI schema.

drf-spectacular's Swagger UI and Redoc views load their JavaScript from a CDN (jsdelivr); this
site serves no third-party assets, so the page is plain HTML in the console's layout. With
drf-spectacular-sidecar installed, SpectacularSwaggerView could serve the same assets locally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import engines
from drf_spectacular.settings import spectacular_settings

from shared.api.schema import ERROR_RESPONSES

METHODS = ("get", "post", "put", "patch", "delete")

PAGE = """{% extends "base.html" %}
{% block title %}API v1{% endblock %}
{% block content %}
<h1 class="h3">{{ info.title }} <small class="text-body-secondary">v{{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>Authenticate with a token (<code>Authorization: Token &lt;key&gt;</code>; an admin creates
one with <code>manage.py drf_create_token &lt;username&gt;</code>) or with the session of the
console. Lists are paginated (<code>?page=</code>; <code>count</code>, <code>next</code>,
<code>previous</code>, <code>results</code>). Errors are JSON with a <code>detail</code> or
per-field messages: <code>400</code> invalid input, <code>401</code> no or bad credentials,
<code>403</code> not allowed, <code>404</code> not found or not yours (another group's objects
are never revealed), <code>405</code>, <code>406</code>, <code>415</code> (send JSON). The
OpenAPI 3 schema:
<a href="{{ schema_url }}">YAML</a> · <a href="{{ schema_url }}?format=json">JSON</a>.</p>
<ul class="small">{% for op in operations %}
  <li class="text-break"><a href="#{{ op.operation_id }}">
    <code>{{ op.method|upper }} {{ op.path }}</code></a>
  {{ op.summary }}</li>{% endfor %}</ul>
{% for op in operations %}
<section class="card mb-3" id="{{ op.operation_id }}">
  <div class="card-header"><span class="badge text-bg-dark me-2">{{ op.method|upper }}</span>
    <code class="text-break">{{ op.path }}</code> <span class="ms-2">{{ op.summary }}</span></div>
  <div class="card-body small">
    {% if op.description %}<p>{{ op.description|linebreaksbr }}</p>{% endif %}
    {% if op.parameters %}<h2 class="h6">Parameters</h2>
    <div class="table-responsive" tabindex="0" role="region" aria-label="Parameters">
    <table class="table table-sm"><tbody>
    {% for p in op.parameters %}
      <tr><td><code>{{ p.name }}</code></td><td>{{ p.location }}</td><td>{{ p.type }}</td>
      <td>{% if p.required %}required{% endif %}</td>
      <td class="text-wrap">{{ p.description }}</td></tr>
    {% endfor %}</tbody></table></div>{% endif %}
    {% if op.body %}<h2 class="h6">Body <code>{{ op.body_name }}</code></h2>
    <div class="table-responsive" tabindex="0" role="region" aria-label="Body fields">
    <table class="table table-sm"><tbody>{% for p in op.body %}
      <tr><td><code>{{ p.name }}</code></td><td class="text-wrap">{{ p.type }}</td>
      <td>{% if p.required %}required{% endif %}</td>
      <td class="text-wrap">{{ p.description }}</td></tr>
    {% endfor %}</tbody></table></div>{% endif %}
    <h2 class="h6">Responses</h2>
    <ul class="mb-0">{% for code, text in op.responses %}
      <li><code>{{ code }}</code> {{ text }}</li>{% endfor %}</ul>
  </div>
</section>
{% endfor %}
{% endblock %}
"""


@dataclass
class Row:
    name: str
    type: str
    required: bool = False
    description: str = ""
    location: str = ""


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    parameters: list[Row] = field(default_factory=list)
    body_name: str = ""
    body: list[Row] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)


def _type(schema: dict[str, Any], components: dict[str, Any] | None = None) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = (components or {}).get(name, {})
        return _type(target) if "enum" in target else name
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v not in ("", None))
    if "allOf" in schema or "oneOf" in schema:
        subs = schema.get("allOf", []) + schema.get("oneOf", [])
        return " | ".join(_type(sub, components) for sub in subs)
    kind = schema.get("type", "object")
    if kind == "array":
        return f"[{_type(schema.get('items', {}), components)}]"
    return kind + (f" ({schema['format']})" if "format" in schema else "")


def _body(op: dict[str, Any], components: dict[str, Any]) -> tuple[str, list[Row]]:
    content = op.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    resolved = components.get(name, schema)
    required = set(resolved.get("required", []))
    rows = [
        Row(prop, _type(spec, components), prop in required, spec.get("description", ""))
        for prop, spec in resolved.get("properties", {}).items()
        if not spec.get("readOnly")
    ]
    return name, rows


def _responses(op: dict[str, Any]) -> list[tuple[str, str]]:
    """Success codes with their body, and the errors this operation documents specially
    (the shared 400/401/403/404... are explained once at the top of the page)."""
    rows = []
    for code, response in op["responses"].items():
        description = response.get("description", "")
        shared = ERROR_RESPONSES.get(code)
        if shared is not None and description == shared.description:
            continue
        bodies = [
            f"{media}: {_type(body.get('schema', {}))}"
            for media, body in response.get("content", {}).items()
        ]
        rows.append((code, " — ".join(filter(None, ["; ".join(bodies), description]))))
    return rows


def operations_from_schema(schema: dict[str, Any]) -> list[Operation]:
    components = schema.get("components", {}).get("schemas", {})
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            body_name, body = _body(op, components)
            operations.append(
                Operation(
                    method=method,
                    path=path,
                    operation_id=op.get("operationId", ""),
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    parameters=[
                        Row(
                            p["name"],
                            _type(p.get("schema", {})),
                            p.get("required", False),
                            p.get("description", ""),
                            p["in"],
                        )
                        for p in op.get("parameters", [])
                    ],
                    body_name=body_name,
                    body=body,
                    responses=_responses(op),
                )
            )
    return operations


def api_docs(request: HttpRequest) -> HttpResponse:
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    schema = generator.get_schema(request=None, public=True)
    template = engines["django"].from_string(PAGE)
    context = {
        "info": schema.get("info", {}),
        "operations": operations_from_schema(schema),
        "schema_url": request.path.replace("docs/", "schema/"),
    }
    return HttpResponse(template.render(context, request))
