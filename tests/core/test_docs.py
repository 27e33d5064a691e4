"""Documentation kept true by tests: every setting, every CLI command and option is documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from tfe.app.cli import app
from tfe.core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`TFE_{name.upper()}`" not in text]
    assert missing == []


def _commands() -> Iterator[tuple[str, Any]]:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)  # type: ignore[arg-type]

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])
        else:
            yield " ".join(path), command

    yield from walk(root, ["tfe"])


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^### (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_cli_command_and_option_is_documented() -> None:
    sections = _sections((DOCS / "cli.md").read_text(encoding="utf-8"))
    commands = dict(_commands())
    assert len(commands) >= 14
    assert sorted(set(commands) - set(sections)) == []  # a command without its section
    assert sorted(set(sections) - set(commands)) == []  # a section for a command that does not exist
    missing = [
        f"{path} {opt}"
        for path, command in commands.items()
        for param in command.params
        if param.param_type_name == "option"
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--")
        and opt != "--help"
        and f"`{opt}" not in sections[path]
        and opt not in sections[path]
    ]
    assert missing == []


def test_every_cli_parameter_has_help() -> None:
    for path, command in _commands():
        assert command.help, path
        for param in command.params:
            assert getattr(param, "help", None), f"{path} {param.name}"


def test_every_error_code_is_documented() -> None:
    from tfe.app.web import errors as web_errors
    from tfe.core import errors as core_errors

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    tree = {getattr(core_errors, name).code for name in core_errors.__all__}
    codes = tree | set(web_errors._STATUS_CODES.values()) | {"internal"}
    assert len(codes) >= 12
    assert sorted(c for c in codes if f"`{c}`" not in text and f"\"{c}\"" not in text) == []
