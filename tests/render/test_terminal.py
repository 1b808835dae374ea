"""The output facade over an Environment: data on stdout, diagnostics on stderr, tables laid out once,
nothing from the data able to drive the terminal, questions only where someone can answer."""

from __future__ import annotations

import json

import pytest

from sgpctl.environment import Environment
from sgpctl.errors import RefusedError
from sgpctl.render.terminal import Terminal, clean, layout


def term(**kw) -> tuple[Terminal, Environment]:
    env = Environment.captured({}, **kw)
    return Terminal(env), env


def test_table_columns_are_as_wide_as_their_widest_cell():
    assert layout(["NAME", "N"], [("web-1", 3), ("a", None)]) == ["NAME   N", "web-1  3", "a"]


def test_data_cannot_drive_the_terminal_nor_be_markup():
    out, env = term()
    out.table(["POD"], [("evil\x1b[2J[bold]x[/bold]",)])
    out.line("bell\x07")
    assert "\x1b" not in env.out() and "\x07" not in env.out()
    assert "evil\\x1b[2J[bold]x[/bold]" in env.out() and "bell\\x07" in env.out()
    assert clean("line one\nline two") == "line one\nline two"  # newlines are layout, kept


def test_headers_are_bold_only_on_a_colour_terminal():
    out, env = term(stdout_isatty=True)
    out.table(["A"], [("x",)])
    assert env.out().startswith("\x1b[1mA\x1b[0m\n")
    out, env = term(stdout_isatty=True, no_color=True)
    out.table(["A"], [("x",)])
    assert env.out() == "A\nx\n"


def test_emit_writes_machine_output_and_draws_the_table_otherwise():
    out, env = term()
    out.emit({"a": [1, 2], "b": "é"}, "json", lambda t: t.line("never"))
    assert json.loads(env.out()) == {"a": [1, 2], "b": "é"} and "never" not in env.out()
    out, env = term()
    out.emit({"a": [1, 2]}, "yaml", lambda t: t.line("never"))
    assert env.out() == "a:\n- 1\n- 2\n"
    out, env = term()
    out.emit({"a": 1}, "table", lambda t: t.line("drawn"))
    assert env.out() == "drawn\n" and env.err() == ""


def test_notes_and_errors_go_to_stderr():
    out, env = term()
    out.note("note: x")
    out.error("bad", "do this")
    assert env.out() == "" and env.err() == "note: x\nerror: bad\nhint: do this\n"


def test_confirm_refuses_without_a_terminal_unless_told_yes():
    out, env = term(stdin="y\n")
    with pytest.raises(RefusedError, match="no terminal to ask"):
        out.confirm("delete it?", yes=False)
    out.confirm("delete it?", yes=True)


@pytest.mark.parametrize("answer,accepted", [("y\n", True), ("yes\n", True), ("n\n", False), ("\n", False)])
def test_confirm_asks_on_a_terminal(answer, accepted):
    out, env = term(stdin=answer, stdin_isatty=True)
    if accepted:
        out.confirm("delete it?", yes=False)
    else:
        with pytest.raises(RefusedError, match="nothing was changed"):
            out.confirm("delete it?", yes=False)
    assert env.err() == "delete it? [y/N]:"


def test_progress_is_silent_off_a_terminal():
    out, env = term()
    with out.status("working") as update:
        update("waiting for eniipamd")
    assert env.err() == "" and env.out() == ""


def test_the_environment_carries_the_settings_inputs():
    from sgpctl.settings import RootFlags, resolve_settings

    env = Environment.captured({"TENCENTCLOUD_REGION": "ap-beijing", "NO_COLOR": "1"}, home="/nonexistent")
    settings = resolve_settings(RootFlags(), env.environ, env.home)
    assert settings.region.value == "ap-beijing" and env.no_color and not env.color
