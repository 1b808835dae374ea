"""The layering rules, read from the source (every import, lazy ones inside functions included):

- command modules (``sgpctl/cli/*_cmd.py``) import no adapter: ``sgpctl.kube``, ``sgpctl.cloud``;
  only the composition root (``cli/context.py``) builds clients;
- the exit code is decided in one place: no command raises ``typer.Exit`` or calls ``sys.exit``;
  each returns an ``ExitCode`` and the root group exits with it;
- nothing but the output facade writes to the process's streams;
- ``sgpctl.core`` does no I/O and imports no SDK; the sandbox imports only ``core`` and ``errors``
  from sgpctl; ``render`` never imports ``workflows``, ``kube`` or ``cloud``; workflows never print.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "sgpctl"
COMMANDS = sorted(PKG.glob("cli/*_cmd.py"))


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def under(modules: set[str], *packages: str) -> set[str]:
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)}


def modules_of(package: str) -> list[Path]:
    return sorted((PKG / package).rglob("*.py"))


def test_there_are_command_modules():
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("path", COMMANDS, ids=[p.name for p in COMMANDS])
def test_command_modules_import_no_adapter(path):
    assert under(imports(path), "sgpctl.kube", "sgpctl.cloud") == set()


@pytest.mark.parametrize("path", COMMANDS, ids=[p.name for p in COMMANDS])
def test_commands_return_their_exit_code_instead_of_exiting(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("Exit", "exit"):
            pytest.fail(f"{path.name}:{node.lineno} decides an exit itself ({ast.unparse(node)})")
    commands = [f for f in tree.body if isinstance(f, ast.FunctionDef) and any(
        isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "command" for d in f.decorator_list)]
    commands += [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in _function_commands(path)]
    assert commands, path.name
    for f in commands:
        assert f.returns is not None and ast.unparse(f.returns) == "ExitCode", f"{path.name}: {f.name} returns no ExitCode"


def _function_commands(path: Path) -> set[str]:
    from sgpctl.cli.commands import COMMANDS as ENTRIES

    return {e.attribute for e in ENTRIES if e.module == f"sgpctl.cli.{path.stem}" and e.attribute != "app"}


@pytest.mark.parametrize("package", ["cli", "workflows", "render"])
def test_only_the_facade_writes_to_the_process_streams(package):
    allowed = {PKG / "environment.py"}
    for path in modules_of(package):
        if path in allowed:
            continue
        text = path.read_text()
        for needle in ("sys.stdout", "sys.stderr", "print("):
            assert needle not in text, f"{path.relative_to(PKG)} writes with {needle}"


def test_core_does_no_io_and_imports_no_sdk():
    for path in modules_of("core"):
        found = imports(path)
        assert under(found, "kubernetes", "tencentcloud", "requests", "urllib3", "sgpctl.kube", "sgpctl.cloud",
                     "sgpctl.workflows", "sgpctl.cli", "sgpctl.render", "sgpctl.sandbox") == set(), path.name
        assert "open(" not in path.read_text(), path.name


def test_the_sandbox_imports_only_core_and_errors_from_sgpctl():
    for path in modules_of("sandbox"):
        found = {m for m in under(imports(path), "sgpctl") if m != "sgpctl"}
        assert under(found, "sgpctl.core", "sgpctl.errors", "sgpctl.sandbox") == found, (path.name, found)


def test_render_depends_on_no_workflow_and_no_adapter():
    for path in modules_of("render"):
        assert under(imports(path), "sgpctl.workflows", "sgpctl.kube", "sgpctl.cloud", "sgpctl.cli") == set(), path.name


def test_workflows_import_no_cli_and_no_render():
    for path in modules_of("workflows"):
        assert under(imports(path), "sgpctl.cli", "sgpctl.render") == set(), path.name


def test_no_import_cycle_between_workflows():
    graph = {p.stem: {m.split(".")[2] for m in under(imports(p), "sgpctl.workflows") if m.count(".") >= 2}
             for p in modules_of("workflows") if p.stem != "__init__"}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(m for m in graph if reaches(m, m, {m}))
    assert cycles == [], cycles


@pytest.mark.parametrize("package,other", [("kube", "sgpctl.cloud"), ("cloud", "sgpctl.kube")])
def test_the_adapters_do_not_depend_on_each_other(package, other):
    for path in modules_of(package):
        assert under(imports(path), other) == set(), path.name


def test_each_commands_summary_is_the_first_line_of_its_help():
    """`sgpctl --help` lists the static summaries of cli/commands.py (nothing is imported to list them);
    each must read the same as the command's own help, so the two cannot drift."""
    from sgpctl.cli.commands import COMMANDS, load

    for entry in COMMANDS:
        command = load(entry.name)
        assert (command.help or "").strip().splitlines()[0] == entry.summary, entry.name
