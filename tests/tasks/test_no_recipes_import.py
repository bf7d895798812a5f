"""The package never imports the recipes: they are configuration, read by path (zoo.tasks.read_recipe)."""
import ast
from pathlib import Path

import zoo

PACKAGE = Path(zoo.__file__).resolve().parent


def recipes_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {alias.name}" for alias in node.names
                      if alias.name.split(".")[0] == "recipes"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "recipes":
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and node.args[0].value.split(".")[0] == "recipes" \
                and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__"):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_under_zoo_imports_recipes():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20
    offenders = {str(path.relative_to(PACKAGE.parent)): found for path in modules if (found := recipes_imports(path))}
    assert offenders == {}


def test_recipes_is_no_python_package():
    recipes = PACKAGE.parent / "recipes"
    assert not (recipes / "__init__.py").exists()
    setup = (PACKAGE.parent / "setup.py").read_text()
    assert '"recipes"' not in setup and "'recipes'" not in setup


def test_the_check_itself_sees_each_kind_of_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import recipes.sentiment\nfrom recipes import pos\nimport importlib\n"
                      "importlib.import_module('recipes.snli')\nfrom zoo import tasks\n")
    assert [line.split(":")[0] for line in recipes_imports(module)] == ["line 1", "line 2", "line 4"]
