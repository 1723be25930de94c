"""The OpenAPI 3.1 document served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_TS = {"type": ["string", "null"], "format": "date-time"}


def _resp(desc: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"description": desc}
    if schema is not None:
        r["content"] = {"application/json": {"schema": schema}}
    return r


_ERRORS = {
    "400": _resp("Invalid request", _ERROR), "401": _resp("No or unknown token", _ERROR),
    "403": _resp("Token lacks the role", _ERROR),
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_ACTION_BODY = {"content": {"application/json": {"schema": {
    "type": "object", "properties": {
        "note": {"type": "string", "maxLength": 65536},
        "assignee": {"type": "string"}, "actor": {"type": "string"}}}}}}


def _action(summary: str) -> dict[str, Any]:
    return {"post": {
        "summary": summary, "parameters": [_ID], "requestBody": _ACTION_BODY,
        "security": [{"bearer": []}],
        "responses": {"200": _resp("The incident after the action",
                                   {"$ref": "#/components/schemas/Incident"}),
                      "404": _resp("No such active incident", _ERROR),
                      "409": _resp("The incident is not in a state that allows it", _ERROR),
                      "503": _resp("Overloaded; retry", _ERROR), **_ERRORS}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "ingestd", "version": "1",
             "description": "Alerts in, incidents out: intake, incidents, health."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error", "detail", "path"], "properties": {
                "error": {"type": "string"}, "detail": {"type": "string"},
                "path": {"type": "string"}}},
            "Alert": {"type": "object", "required": ["fingerprint", "starts_at", "status"],
                      "properties": {
                          "fingerprint": {"type": "string"}, "starts_at": _TS, "ends_at": _TS,
                          "status": {"enum": ["firing", "resolved"]},
                          "alertname": {"type": "string"}, "ci": {"type": ["string", "null"]},
                          "severity": {"type": "string"}}},
            "Incident": {"type": "object",
                         "required": ["id", "status", "priority", "root_ci", "cis", "alerts"],
                         "properties": {
                             "id": {"type": "string"},
                             "status": {"enum": ["open", "acknowledged", "resolved", "closed"]},
                             "priority": {"enum": ["P0", "P1", "P2", "P3", "P4"]},
                             "root_ci": {"type": ["string", "null"]},
                             "root_inferred": {"type": "boolean"},
                             "cis": {"type": "array", "items": {"type": "string"}},
                             "team": {"type": ["string", "null"]},
                             "assignee": {"type": ["string", "null"]},
                             "alerts": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/Alert"}}}},
        },
    },
    "paths": {
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _resp("Alive")}}},
        "/readyz": {"get": {"summary": "Readiness", "responses": {
            "200": _resp("Store, CMDB and rules loaded"), "503": _resp("Not ready")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {
            "200": {"description": "Text exposition",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {
            "200": _resp("OpenAPI 3.1", {"type": "object"})}}},
        "/api/v1/alerts/alertmanager": {"post": {
            "summary": "Alertmanager webhook (version 4)", "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["version", "alerts"]}}}},
            "responses": {
                "200": _resp("Every alert of the body is stored", {"type": "object"}),
                "408": _resp("The body did not arrive in time", _ERROR),
                "413": _resp("Body over the size limit", _ERROR),
                "503": _resp("Overloaded or shutting down: retry", _ERROR), **_ERRORS}}},
        "/api/v1/alerts/{source}": {"post": {
            "summary": "Any JSON source with a declared field mapping (grafana, zabbix, ...)",
            "security": [{"bearer": []}],
            "parameters": [{"name": "source", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object"}}}},
            "responses": {
                "200": _resp("Every alert of the body is stored", {"type": "object"}),
                "404": _resp("No mapping for this source", _ERROR),
                "413": _resp("Body over the size limit", _ERROR),
                "503": _resp("Overloaded or shutting down: retry", _ERROR), **_ERRORS}}},
        "/api/v1/incidents": {"post": {
            "summary": "Open an incident by hand", "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["title"], "properties": {
                    "title": {"type": "string"}, "ci": {"type": "string"},
                    "severity": {"type": "string"}, "summary": {"type": "string"},
                    "description": {"type": "string"}, "runbook_url": {"type": "string"},
                    "labels": {"type": "object",
                               "additionalProperties": {"type": "string"}}}}}}},
            "responses": {"201": _resp("The incident", {"type": "object"}),
                          "503": _resp("Overloaded; retry", _ERROR), **_ERRORS}},
            "get": {
            "summary": "Incidents, newest first", "security": [{"bearer": []}],
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string"},
                 "description": "any, or a comma list of open,acknowledged,resolved,closed"},
                {"name": "priority", "in": "query", "schema": {"type": "string"}},
                {"name": "team", "in": "query", "schema": {"type": "string"}},
                {"name": "ci", "in": "query", "schema": {"type": "string"}},
                {"name": "since", "in": "query", "schema": {"type": "string",
                                                            "format": "date-time"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                            "maximum": 1000}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": _resp("A page of incidents", {
                "type": "object", "required": ["incidents", "next_cursor"], "properties": {
                    "incidents": {"type": "array",
                                  "items": {"$ref": "#/components/schemas/Incident"}},
                    "next_cursor": {"type": ["string", "null"]}}}), **_ERRORS}}},
        "/api/v1/incidents/{id}": {"get": {
            "summary": "One incident with its alerts and timeline", "parameters": [_ID],
            "security": [{"bearer": []}],
            "responses": {"200": _resp("The incident", {"$ref": "#/components/schemas/Incident"}),
                          "404": _resp("No such incident", _ERROR), **_ERRORS}}},
        "/api/v1/incidents/{id}/acknowledge": _action("Acknowledge"),
        "/api/v1/incidents/{id}/resolve": _action("Resolve (with a resolution note)"),
        "/api/v1/incidents/{id}/reopen": _action("Reopen"),
        "/api/v1/incidents/{id}/assign": _action("Assign to someone"),
        "/api/v1/incidents/{id}/notes": _action("Add a note"),
        "/api/v1/changes": {
            "post": {"summary": "Report a change (deployment, config) on a CI",
                     "security": [{"bearer": []}],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["ci", "summary"],
                                    "properties": {
                                        "ci": {"type": "string"}, "summary": {"type": "string"},
                                        "author": {"type": "string"}, "kind": {"type": "string"},
                                        "started_at": {"type": "string", "format": "date-time"},
                                        "ended_at": {"type": "string", "format": "date-time"},
                                        "link": {"type": "string"}}}}}},
                     "responses": {"201": _resp("Stored", {"type": "object"}),
                                   "503": _resp("Overloaded; retry", _ERROR), **_ERRORS}},
            "get": {"summary": "Changes, newest first", "security": [{"bearer": []}],
                    "parameters": [{"name": "ci", "in": "query", "schema": {"type": "string"}},
                                   {"name": "since", "in": "query",
                                    "schema": {"type": "string", "format": "date-time"}}],
                    "responses": {"200": _resp("Changes", {"type": "object"}), **_ERRORS}}},
        "/api/v1/problems": {"get": {
            "summary": "Problem records (recurring faults)", "security": [{"bearer": []}],
            "parameters": [{"name": "status", "in": "query",
                            "schema": {"enum": ["open", "closed"]}}],
            "responses": {"200": _resp("Problems", {"type": "object"}), **_ERRORS}}},
        "/api/v1/problems/{id}": {"get": {
            "summary": "One problem", "security": [{"bearer": []}], "parameters": [_ID],
            "responses": {"200": _resp("The problem", {"type": "object"}),
                          "404": _resp("No such problem", _ERROR), **_ERRORS}}},
        "/api/v1/problems/{id}/notes": _action("Annotate a problem"),
        "/api/v1/problems/{id}/close": _action("Close a problem"),
        "/api/v1/reports": {"get": {
            "summary": "Service numbers: time to acknowledge and resolve, SLA compliance,"
                       " repeat rate, compression, open incidents by age",
            "security": [{"bearer": []}],
            "parameters": [{"name": "days", "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 366}},
                           {"name": "team", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": _resp("The figures", {"type": "object"}), **_ERRORS}}},
        "/api/v1/maintenance": {
            "get": {"summary": "Maintenance windows in force (API and rules)",
                    "security": [{"bearer": []}],
                    "responses": {"200": _resp("Windows", {"type": "object"}), **_ERRORS}},
            "post": {"summary": "Start a maintenance window on CIs (and their dependents)",
                     "security": [{"bearer": []}],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["name", "cis", "end"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "cis": {"type": "array", "items": {"type": "string"}},
                                        "start": {"type": "string", "format": "date-time"},
                                        "end": {"type": "string", "format": "date-time"},
                                        "reason": {"type": "string"},
                                        "include_dependents": {"type": "boolean"}}}}}},
                     "responses": {"201": _resp("Stored", {"type": "object"}),
                                   "503": _resp("Overloaded; retry", _ERROR), **_ERRORS}}},
        "/api/v1/maintenance/{name}": {"delete": {
            "summary": "End a maintenance window now", "security": [{"bearer": []}],
            "parameters": [{"name": "name", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": _resp("Ended", {"type": "object"}),
                          "404": _resp("No such window", _ERROR), **_ERRORS}}},
        "/api/v1/outbox": {"get": {
            "summary": "Notification outbox (dead letters with state=dead)",
            "security": [{"bearer": []}],
            "parameters": [{"name": "state", "in": "query",
                            "schema": {"enum": ["pending", "delivered", "dead"]}}],
            "responses": {"200": _resp("Outbox rows", {"type": "object"}), **_ERRORS}}},
    },
}
