"""The tree stays the way the README's "Layout" describes it: every package named there exists and every
package is named, no import circle among sparkdl's modules (the rule `make lint` runs, shown to catch one),
and no test suite imports another (what suites share lives in tests/support)."""
import ast
import importlib.util
import os
import re

from tests.support.fixtures import ROOT


def _layout():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## Layout\n"):]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)


def _named_under(layout, heading):
    """The folders the layout lists (lines ``  name/  ...``, several as ``a/, b/``) under its line ``heading``."""
    lines = layout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    names = set()
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        found = re.match(r"  ((?:\w+/, )*\w+/)\s", line)
        if found:
            names.update(n.strip().rstrip("/") for n in found.group(1).split(","))
    return names


def _packages(folder):
    return {n for n in os.listdir(folder) if os.path.isdir(os.path.join(folder, n)) and n != "__pycache__"
            and (folder.endswith(os.path.join("scala", "sparkdl")) or os.path.isfile(os.path.join(folder, n,
                                                                                                   "__init__.py")))}


def test_the_layout_names_every_package_and_only_those():
    layout = _layout()
    scala = os.path.join(ROOT, "scala", "src", "main", "scala", "sparkdl")
    assert _named_under(layout, "scala/src/main/scala/sparkdl/") == _packages(scala)
    assert _named_under(layout, "python/sparkdl/") == _packages(os.path.join(ROOT, "python", "sparkdl"))
    assert _named_under(layout, "tests/") == _packages(os.path.join(ROOT, "tests"))


def _import_cycles():
    spec = importlib.util.spec_from_file_location("import_cycles", os.path.join(ROOT, "tools", "import_cycles.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_circle_rule_catches_a_circle_and_sparkdl_has_none(tmp_path):
    tool = _import_cycles()
    package = tmp_path / "sparkdl"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from sparkdl.sub.a import f\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("def f():\n    from sparkdl.sub import b\n    return b\n")
    (package / "sub" / "b.py").write_text("from .a import f\n")  # relative, and a circle only with a's lazy import
    (package / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                      "    from sparkdl.sub.a import f\n")
    (package / "sub" / "c.py").write_text("import sparkdl.typed\n")
    graph = tool.import_graph(tmp_path)
    assert graph["sparkdl.typed"] == set()  # imports only type checkers run are no dependency
    assert tool.cycles(graph) == [["sparkdl.sub.a", "sparkdl.sub.b"]]
    (package / "sub" / "b.py").write_text("X = 1\n")
    assert tool.cycles(tool.import_graph(tmp_path)) == []
    assert tool.cycles(tool.import_graph()) == []


def test_no_test_suite_imports_another():
    offenders = []
    for folder, _, files in os.walk(os.path.join(ROOT, "tests")):
        for name in (f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                modules = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                           [node.module or ""] + ["%s.%s" % (node.module, a.name) for a in node.names]
                           if isinstance(node, ast.ImportFrom) else [])
                if any(re.match(r"tests\.test_\w+$", m) for m in modules):
                    offenders.append("%s:%d" % (os.path.relpath(path, ROOT), node.lineno))
    assert offenders == []


def test_importing_sparkdl_imports_neither_tensorflow_nor_keras():
    import subprocess
    import sys

    code = ("import sys, sparkdl, sparkdl.ml, sparkdl.training\n"
            "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
