"""Recipe files read as configuration: parsed, never imported or executed.

A recipe (`recipes/<task>.py`, or a user's copy anywhere) is a Python file of assignments:

    TASK = "sentiment"                          # which `zoo.tasks` task trains it
    DATASET = "uci_sentiment"                   # a `zoo.data` name
    MODEL = AcceptorConfig(embedding_dim=50, encoder=EncoderConfig(units=128))
    TRAINING = TrainingConfig(batch_size=16)
    SETTINGS = CharLMSettings(...)              # only for tasks with settings of their own

`read_recipe` parses it with `ast` and evaluates only literals (numbers, strings, True, False,
None, a leading minus) and calls of the known config classes with keyword arguments that are
themselves such values. It also accepts the module docstring and `from zoo... import <config
class>` lines (so the file stays valid Python for editors), which it checks but does not run.
Anything else (a function, an `if`, an expression, another import, a name) is refused with a
`RecipeError` naming the file and the line. So reading a recipe shows exactly what `zoo train`
trains: nothing else is applied but the `--set` overrides given on the command line.
"""
from __future__ import annotations

import ast
import dataclasses
import os
import re
from pathlib import Path
from typing import Any

REQUIRED_KEYS = ("TASK", "DATASET", "MODEL", "TRAINING")
KEYS = (*REQUIRED_KEYS, "SETTINGS")


class RecipeError(ValueError):
    """A recipe file that is not plain configuration, or whose values are invalid."""


def _config_classes() -> dict[str, tuple[type, tuple[str, ...]]]:
    """class name -> (class, the modules a recipe may import it from)."""
    from zoo.models.config import CONFIG_CLASSES
    from zoo.tasks.registry import TASKS
    from zoo.training import TrainingConfig

    classes = {name: (cls, ("zoo.models", "zoo.models.config")) for name, cls in CONFIG_CLASSES.items()}
    classes["TrainingConfig"] = (TrainingConfig, ("zoo.training",))
    for task in TASKS.values():
        if task.settings_class is not None:
            classes[task.settings_class.__name__] = (
                task.settings_class, ("zoo.tasks", task.settings_class.__module__))
    return classes


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A recipe's values: what `zoo train` trains.

    Args:
        task: the task's name (`zoo.tasks.TASKS`).
        dataset: the dataset name.
        model: the model config (its sizes that depend on the data are set when it is prepared).
        training: the `TrainingConfig`.
        settings: the task's own settings (e.g. `CharLMSettings`), or None for tasks without any.
        path: the file it was read from (None when made in code).
    """

    task: str
    dataset: str
    model: Any
    training: Any
    settings: Any = None
    path: str | None = None

    @property
    def name(self) -> str:
        """The recipe file's name without `.py` (the run folder's name), else the task's name."""
        return Path(self.path).stem if self.path else self.task

    def with_overrides(self, assignments, dataset: str | None = None) -> "Recipe":
        """A copy with `--set key=value` assignments applied (see `apply_settings`)."""
        model, training, settings = apply_settings(self.model, self.training, list(assignments), self.settings)
        return dataclasses.replace(self, model=model, training=training, settings=settings,
                                   dataset=dataset or self.dataset)

    def to_dict(self) -> dict:
        return {"task": self.task, "dataset": self.dataset, "recipe_file": self.path,
                "model": _as_dict(self.model), "training": _as_dict(self.training),
                "settings": _as_dict(self.settings) if self.settings is not None else None}


def _as_dict(config) -> dict:
    import json

    return json.loads(config.to_json())


def apply_settings(model_config, training, assignments: list[str], settings=None):
    """Routes each `key=value` to the training settings, the task settings (when given) or the
    model config, whichever has the key's first part; returns `(model_config, training, settings)`.

    Raises:
        ValueError: an unknown key or a value of the wrong type (the message names it).
    """
    from zoo.models.config import with_overrides

    training_fields = {field.name for field in dataclasses.fields(training)}
    settings_fields = {field.name for field in dataclasses.fields(settings)} if settings is not None else set()
    routed = {"training": [], "settings": [], "model": []}
    for assignment in assignments:
        head = assignment.split("=", 1)[0].strip().split(".")[0]
        side = "training" if head in training_fields else "settings" if head in settings_fields else "model"
        routed[side].append(assignment)
    model_config = with_overrides(model_config, routed["model"])
    training = with_overrides(training, routed["training"])
    return model_config, training, with_overrides(settings, routed["settings"]) if settings is not None else None


# -- reading -----------------------------------------------------------------------------------
class _Reader:
    def __init__(self, path: Path, classes: dict):
        self.path, self.classes = path, classes

    def fail(self, node, message: str):
        line = getattr(node, "lineno", None)
        where = f"{self.path}, line {line}" if line else str(self.path)
        raise RecipeError(f"{where}: {message}")

    def source(self, node) -> str:
        text = ast.unparse(node)
        return text if len(text) <= 60 else text[:57] + "..."

    def value(self, node):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, int, float, bool)) or node.value is None:
                return node.value
            self.fail(node, f"{node.value!r} is not a value a recipe may hold")
        if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
                and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)):
            return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
        if isinstance(node, ast.Call):
            return self.call(node)
        self.fail(node, "a recipe value must be a literal (a number, a string, True, False, None) or a "
                        f"call of a config class ({', '.join(sorted(self.classes))}); found "
                        f"`{self.source(node)}`")

    def call(self, node: ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in self.classes:
            self.fail(node, f"only the config classes can be called in a recipe "
                            f"({', '.join(sorted(self.classes))}); found `{self.source(node.func)}(...)`")
        cls = self.classes[node.func.id][0]
        if node.args:
            self.fail(node, f"give {cls.__name__}'s values by name (field=value), not by position")
        values = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                self.fail(node, f"`**` is not allowed in a recipe; give {cls.__name__}'s fields one by one")
            if keyword.arg in values:
                self.fail(keyword.value, f"{cls.__name__}.{keyword.arg} is given twice")
            values[keyword.arg] = self.value(keyword.value)
        fields = [field.name for field in dataclasses.fields(cls)]
        unknown = [name for name in values if name not in fields]
        if unknown:
            self.fail(node, f"{cls.__name__} has no field {unknown[0]!r}; its fields: {', '.join(fields)}")
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            self.fail(node, str(error))

    def import_from(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__" and node.level == 0:
            return
        for alias in node.names:
            allowed = self.classes.get(alias.name, (None, ()))[1]
            if node.level or node.module not in allowed or alias.asname:
                self.fail(node, f"a recipe may import only the config classes, each from its module "
                                f"(e.g. `from zoo.models import AcceptorConfig`); found `{self.source(node)}`")


_STATEMENT_NAMES = {
    ast.FunctionDef: "a function definition", ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition", ast.If: "an if statement", ast.For: "a for loop",
    ast.While: "a while loop", ast.With: "a with statement", ast.Try: "a try statement",
    ast.Import: "an import", ast.Expr: "an expression", ast.AugAssign: "an augmented assignment",
    ast.AnnAssign: "an annotated assignment", ast.Delete: "a del statement",
}


def read_recipe(path: str | os.PathLike) -> Recipe:
    """Reads a recipe file as configuration (see the module docstring); nothing in it is executed.

    Raises:
        FileNotFoundError: no such file.
        RecipeError: a statement or value a recipe may not hold, a missing or unknown key, a value
            the config classes refuse, or a model config of another task (the message names the
            file and the line).
    """
    from zoo.tasks.registry import TASKS
    from zoo.training import TrainingConfig

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no recipe file {path}")
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise RecipeError(f"{path}, line {error.lineno}: not valid Python ({error.msg})") from None
    reader = _Reader(path, _config_classes())
    values, lines = {}, {}
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom):
            reader.import_from(node)
            continue
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                reader.fail(node, "assign one name at a time (e.g. `MODEL = AcceptorConfig(...)`)")
            key = node.targets[0].id
            if key not in KEYS:
                reader.fail(node, f"unknown recipe key {key!r}; a recipe assigns {', '.join(KEYS)}")
            if key in values:
                reader.fail(node, f"{key} is assigned twice (first on line {lines[key]})")
            values[key], lines[key] = reader.value(node.value), node.lineno
            continue
        kind = _STATEMENT_NAMES.get(type(node), f"a {type(node).__name__} statement")
        reader.fail(node, f"a recipe holds only assignments of values ({', '.join(KEYS)}); found {kind} "
                          f"(`{reader.source(node).splitlines()[0]}`)")

    missing = [key for key in REQUIRED_KEYS if key not in values]
    if missing:
        raise RecipeError(f"{path}: missing {', '.join(missing)} (a recipe assigns {', '.join(REQUIRED_KEYS)}, "
                          "and SETTINGS for tasks with settings of their own)")

    def check(key, condition, message):
        if not condition:
            raise RecipeError(f"{path}, line {lines[key]}: {key} {message}")

    task_name = values["TASK"]
    check("TASK", isinstance(task_name, str) and task_name in TASKS,
          f"must be one of {', '.join(TASKS)}, got {task_name!r}")
    task = TASKS[task_name]
    check("DATASET", isinstance(values["DATASET"], str) and values["DATASET"], "must be a dataset name (a string)")
    check("MODEL", isinstance(values["MODEL"], task.config_class),
          f"must be a {task.config_class.__name__} for the {task_name} task, got {values['MODEL']!r:.80}")
    check("TRAINING", isinstance(values["TRAINING"], TrainingConfig),
          f"must be a TrainingConfig, got {values['TRAINING']!r:.80}")
    settings = values.get("SETTINGS")
    if "SETTINGS" in values:
        if task.settings_class is None:
            check("SETTINGS", False, f"is not used: the {task_name} task has no settings of its own")
        check("SETTINGS", isinstance(settings, task.settings_class),
              f"must be a {task.settings_class.__name__} for the {task_name} task, got {settings!r:.80}")
    else:
        settings = task.default_settings()
    return Recipe(task_name, values["DATASET"], values["MODEL"], values["TRAINING"], settings, str(path))


# -- finding -----------------------------------------------------------------------------------
def shipped_recipes_dir() -> Path:
    """The zoo's own `recipes/` folder: next to the `zoo` package in a checkout (or an editable install)."""
    import zoo

    return Path(zoo.__file__).resolve().parent.parent / "recipes"


def recipe_folders() -> list[Path]:
    """Where `find_recipe` looks for a recipe given by name: `./recipes/` first, then the zoo's own."""
    folders = []
    for folder in (Path.cwd() / "recipes", shipped_recipes_dir()):
        if folder.resolve() not in [known.resolve() for known in folders]:
            folders.append(folder)
    return folders


def find_recipe(name_or_path: str | os.PathLike) -> Path:
    """The recipe file for a name (`sentiment`: `./recipes/sentiment.py`, else the zoo's own
    `recipes/sentiment.py`) or a path (anything ending in `.py` or holding a `/`)."""
    text = str(name_or_path)
    if text.endswith(".py") or "/" in text or os.sep in text:
        path = Path(text)
        if not path.is_file():
            raise FileNotFoundError(f"no recipe file {path}")
        return path
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        raise ValueError(f"{text!r} is neither a recipe name (e.g. sentiment) nor a recipe file (*.py)")
    folders = recipe_folders()
    for folder in folders:
        if (folder / f"{text}.py").is_file():
            return folder / f"{text}.py"
    known = sorted({path.stem for folder in folders if folder.is_dir() for path in folder.glob("*.py")})
    where = " and ".join(str(folder / f"{text}.py") for folder in folders)
    hint = (f"recipes there: {', '.join(known)}" if known else
            "the zoo's own recipes sit in the recipes/ folder of its checkout (install it with pip install -e .)")
    raise FileNotFoundError(f"no recipe {text!r}: looked for {where}; {hint}; or give the path of a recipe file")


def load_recipe(name_or_path) -> Recipe:
    """`read_recipe(find_recipe(name_or_path))`; a `Recipe` is returned as it is."""
    if isinstance(name_or_path, Recipe):
        return name_or_path
    return read_recipe(find_recipe(name_or_path))
