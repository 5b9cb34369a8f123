"""The web client is generated from web/openapi.json (`make api-client`); these fail when the checked-in
document is not what the server's routes and models say now, the drift `make test-web` also checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dymunim.cli import app, openapi_document

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "web" / "openapi.json"


def test_the_checked_in_document_is_what_the_server_writes_now() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == openapi_document(), (
        "web/openapi.json differs from the server's OpenAPI document: "
        "run `make api-client` and commit web/openapi.json and web/src/lib/api.gen.ts"
    )


def test_the_command_writes_the_document_with_sorted_keys_and_a_final_newline(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "openapi.json"
    result = CliRunner().invoke(app, ["openapi", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text == openapi_document()
    assert text.endswith("}\n")
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert doc["info"]["title"] == "dymunim" and "/api/jobs" in doc["paths"]

    printed = CliRunner().invoke(app, ["openapi"])
    assert printed.exit_code == 0 and printed.stdout == text


def test_the_document_does_not_depend_on_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    before = openapi_document()
    monkeypatch.setenv("DYMUNIM_API_TOKEN", "secret")
    monkeypatch.setenv("DYMUNIM_MAX_BODY_BYTES", "10")
    monkeypatch.setenv("DYMUNIM_SUBMIT_RATE_PER_S", "5")
    monkeypatch.setenv("DATABASE_URL", "postgresql://somewhere/else")
    assert openapi_document() == before


def test_every_route_says_what_it_answers() -> None:
    """The generated client is only as typed as the document: a route without a response model would
    reach the UI as `unknown`, an error without the Problem schema as an untyped body."""
    doc = json.loads(openapi_document())
    untyped: list[str] = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            answers = op["responses"]
            ok = {code: r for code, r in answers.items() if code.startswith("2")}
            if not ok:
                untyped.append(f"{where}: no success answer")
            for code, answer in ok.items():
                schemas = [c.get("schema") for c in answer.get("content", {}).values()]
                if not schemas or not all(s and ("$ref" in s or s.get("type") == "string") for s in schemas):
                    untyped.append(f"{where} {code}: {schemas}")
            default = answers.get("default", {}).get("content", {}).get("application/json", {})
            if default.get("schema") != {"$ref": "#/components/schemas/Problem"}:
                untyped.append(f"{where}: errors are not declared as Problem")
    assert not untyped, "\n".join(untyped)
