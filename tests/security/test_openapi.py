"""Schemathesis against the served OpenAPI document: no 5xx, every answer as documented."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ingestd.api.openapi import OPENAPI
from tests.conftest import ROOT, DaemonProcess

from .secured import TOKENS, auth, write_tokens

schema = schemathesis.openapi.from_dict(OPENAPI)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, missing_required_header,
          ignored_auth]
"""Checks of the answers. How strictly the document describes what a request may hold is
looser than the server's validation (which answers a precise 400), so the request-side checks
(positive data accepted, negative data rejected) are not among them."""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    tmp = tmp_path_factory.mktemp("openapi")
    d = DaemonProcess(tmp, ROOT / "cmdb.yaml", extra=["--tokens", str(write_tokens(tmp))])
    d.start()
    yield d
    d.stop()


def test_the_served_document_is_the_one_tested(daemon: DaemonProcess) -> None:
    with urllib.request.urlopen(daemon.url + "/api/v1/openapi.json") as r:
        assert json.loads(r.read()) == json.loads(json.dumps(OPENAPI))


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_schema(case: schemathesis.Case, daemon: DaemonProcess) -> None:
    case.call_and_validate(base_url=daemon.url, headers=auth(TOKENS["admin"]),
                           checks=CHECKS)
