"""The README's two opening commands, run as written in a fresh virtual environment."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    return [command for command in commands if command]


def test_readme_opens_with_the_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].startswith("pip install -e .") and "zoo train" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run must run the README's test command verbatim"


@pytest.mark.slow
def test_readme_commands_succeed_in_a_fresh_virtual_environment(tmp_path):
    checkout = tmp_path / "zoo"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(".git", "runs", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    environment = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    environment.pop("PYTHONPATH", None)
    main_job, test_command = readme_commands()
    for command in (main_job, test_command):
        result = subprocess.run(command, shell=True, cwd=checkout, env=environment, capture_output=True,
                                text=True, timeout=3600)
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
