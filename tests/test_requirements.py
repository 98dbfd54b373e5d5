"""The locks: generated from the .in files and current, complete, and enough for production on their own.

The staleness test re-runs the Makefile's compile command (uv, from the dev lock) in a temporary copy, starting
from the committed locks as `make lock` does (no upgrades), and compares. It needs PyPI; uv's cache keeps it to
about a second. The other tests read the production virtualenv that tests/test_parity.py builds from
requirements.txt alone (no PostgreSQL or Redis needed).
"""

import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.test_parity import copy_bundle, parity_venv, production_environment  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.txt": "requirements.in", "requirements-dev.txt": "requirements-dev.in"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")
# What `uv pip compile --python-version 3.11 --python-platform x86_64-manylinux_2_34` resolves for.
TARGET = {"python_version": "3.11", "python_full_version": "3.11.0", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "os_name": "posix", "sys_platform": "linux",
          "platform_system": "Linux", "platform_machine": "x86_64"}
# Development-only modules (the embedded PostgreSQL, the local AWS endpoint, `make run`) and the packages they
# need: production never imports them, so those packages are in the dev lock only.
DEV_AREA = "torium_api.dev"  # the development stack: may need pgserver and moto, which production lacks
DEV_PACKAGES = {"pgserver", "moto"}


def pins(text: str) -> dict[str, str]:
    return {canonicalize_name(m[1]): m[2] for m in map(PIN.match, text.splitlines()) if m}


def _entries(text: str) -> dict[str, tuple[str, set[str], str]]:
    """name → (pinned line, its hashes, its annotations): a lock file split per package."""
    entries, name = {}, None
    for line in text.splitlines():
        if match := PIN.match(line):
            name = canonicalize_name(match[1])
            entries[name] = (match[0], set(), "")
        elif name:
            pinned, hashes, notes = entries[name]
            hashes.update(HASH.findall(line))
            notes += line.strip() + "\n" if line.strip().startswith("#") else ""
            entries[name] = (pinned, hashes, notes)
    return entries


def compile_command() -> list[str]:
    """`uv` + the Makefile's COMPILE arguments: the one definition of how the locks are made."""
    makefile = (ROOT / "Makefile").read_text()
    [arguments] = re.findall(r"^COMPILE := (.+)$", makefile, flags=re.MULTILINE)
    return [str(Path(sys.executable).parent / "uv"), *shlex.split(arguments)]


def test_each_lock_says_it_was_made_by_the_makefile_command():
    for lock, source in LOCKS.items():
        header = (ROOT / lock).read_text().splitlines()[:2]
        expected = shlex.join(["uv", *compile_command()[1:], source, "-o", lock])
        assert header[1] == f"#    {expected}", f"{lock} was not made by `make lock`: {header}"


def test_the_locks_are_what_make_lock_makes_from_the_in_files(tmp_path):
    """Fails when a .in file changed and nobody ran `make lock` (or a lock was edited by hand)."""
    for name in (*LOCKS, *LOCKS.values()):
        shutil.copy(ROOT / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_") or k == "UV_CACHE_DIR"}
    for lock, source in LOCKS.items():  # runtime first: the dev lock is constrained by it
        result = subprocess.run([*compile_command(), "--quiet", source, "-o", lock], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"uv pip compile {source} failed:\n{result.stderr}"
    for lock in LOCKS:
        committed, fresh = (ROOT / lock).read_text(), (tmp_path / lock).read_text()
        if committed == fresh:
            continue
        diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True), lock, "fresh"))
        assert _only_new_upstream_files(committed, fresh), f"{lock} is stale: run `make lock`.\n{diff[:6000]}"


def _only_new_upstream_files(committed: str, fresh: str) -> bool:
    """The same pins and annotations, and every committed hash still published: PyPI only added a file (a wheel
    for a new platform) to a pinned release. The lock still installs; the next `make lock` adds the hash."""
    old, new = _entries(committed), _entries(fresh)
    return old.keys() == new.keys() and all(
        old[n][0] == new[n][0] and old[n][2] == new[n][2] and old[n][1] <= new[n][1] for n in old)


def _site_packages(venv: Path) -> Path:
    [site] = (venv / "lib").glob("python3*/site-packages")
    return site


def _installed(venv: Path) -> dict[str, metadata.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions(path=[str(_site_packages(venv))])}


def test_the_production_venv_holds_exactly_the_runtime_lock(parity_venv):  # noqa: F811
    installed = {name: d.version for name, d in _installed(parity_venv).items() if name not in {"pip", "setuptools"}}
    assert installed == pins((ROOT / "requirements.txt").read_text())


def test_every_requirement_of_production_is_pinned_and_nothing_else(parity_venv):  # noqa: F811
    """From requirements.in's direct requirements (with their extras), through every installed distribution's
    declared requirements (markers for Python 3.11 on Linux): each one reached is pinned in requirements.txt at
    a version that satisfies it, and each pin is reached."""
    locked, installed = pins((ROOT / "requirements.txt").read_text()), _installed(parity_venv)
    direct = [Requirement(line.split("#")[0]) for line in (ROOT / "requirements.in").read_text().splitlines()
              if line.split("#")[0].strip()]
    todo, reached, problems = [(r, "requirements.in") for r in direct], set(), []
    while todo:
        requirement, wanted_by = todo.pop()
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{requirement} (wanted by {wanted_by}) is not in requirements.txt")
            continue
        if not requirement.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{requirement} (wanted by {wanted_by}) but requirements.txt pins {locked[name]}")
        extras = {"", *requirement.extras}
        if (name, frozenset(extras)) in reached:
            continue
        reached.add((name, frozenset(extras)))
        for text in installed[name].requires or []:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({**TARGET, "extra": extra}) for extra in extras):
                todo.append((dependency, f"{name}[{','.join(sorted(extras - {''}))}]" if extras - {""} else name))
    unreached = set(locked) - {name for name, _ in reached}
    assert not problems, "\n".join(problems)
    assert not unreached, f"pinned in requirements.txt but required by nothing: {sorted(unreached)}"


IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys, sysconfig
from importlib import metadata
from pathlib import Path
import application  # create_app() with the production configuration, as gunicorn's preload does
import gunicorn.app.wsgiapp, gunicorn.workers.gthread  # the Procfile's web process
import torium_api
failed = {}
for module in pkgutil.walk_packages(torium_api.__path__, "torium_api."):
    if module.name.endswith(".__main__"):  # an entry point runs when imported; its package is imported anyway
        continue
    try:
        importlib.import_module(module.name)
    except ModuleNotFoundError as exc:
        failed[module.name] = exc.name
site = Path(sysconfig.get_paths()["purelib"]).resolve()
owner = {str(d.locate_file(f).resolve()): d.metadata["Name"] for d in metadata.distributions() for f in d.files or []}
imported = {}
for name, module in list(sys.modules.items()):
    path = Path(getattr(module, "__file__", None) or "/").resolve()
    # _distutils_hack: the venv's own setuptools .pth hook, run at interpreter start, not imported by the app
    if path.is_relative_to(site) and name != "_distutils_hack":
        imported.setdefault(owner.get(str(path)) or "NO DISTRIBUTION", []).append(name)
print(json.dumps({"failed": failed, "imported": imported}))
"""


def test_the_production_app_imports_only_what_requirements_txt_installs(parity_venv, tmp_path):  # noqa: F811
    """Without any server: the production configuration (redis:// rate limits included) builds the app, and every
    module it or gunicorn imports, and every module of torium_api but the development-only ones, comes from a
    distribution pinned in requirements.txt. Catches a dependency that only the dev set brought in."""
    (tmp_path / "bundle").mkdir()
    env = production_environment(parity_venv, tmp_path, "postgresql://nobody@127.0.0.1:9/none",
                                 "redis://127.0.0.1:9/0")  # nothing is connected to: import and configure only
    result = subprocess.run([str(parity_venv / "bin" / "python"), "-c", IMPORT_EVERYTHING],
                            cwd=copy_bundle(tmp_path / "bundle"), env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    unexpected = {m: missing for m, missing in report["failed"].items()
                  if not (m == DEV_AREA or m.startswith(DEV_AREA + ".")) or missing not in DEV_PACKAGES}
    assert not unexpected, f"modules that cannot be imported from requirements.txt alone: {unexpected}"
    locked = pins((ROOT / "requirements.txt").read_text())
    imported = {canonicalize_name(d): sorted(modules)[:5] for d, modules in report["imported"].items()}
    assert {"flask", "gunicorn", "psycopg2-binary", "redis"} <= imported.keys(), sorted(imported)
    strays = {d: modules for d, modules in imported.items() if d not in locked}
    assert not strays, f"imported from site-packages but not from a distribution in requirements.txt: {strays}"
