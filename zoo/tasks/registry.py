"""The task list: one definition, used by `zoo train`, `zoo tune`, `zoo evaluate` and the recipe reader."""
from __future__ import annotations

from zoo.tasks.char_lm import CharLMTask
from zoo.tasks.compress import CompressTask
from zoo.tasks.pos import POSTask
from zoo.tasks.sentiment import SentimentTask
from zoo.tasks.snli import SNLITask

TASKS = {task.name: task for task in (SentimentTask(), POSTask(), SNLITask(), CharLMTask(), CompressTask())}


def get(name: str):
    """The `Task` called `name`."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(TASKS)}")
    return TASKS[name]
