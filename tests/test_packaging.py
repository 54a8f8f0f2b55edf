"""The wheel is the product: it must carry the SQL and the `fastqueue` command, and a wheel installed
into a brand-new virtualenv, run outside the checkout, must migrate an empty database on its own.

This is exactly what the Docker image does (build a wheel, install it into a venv), so these tests
cover the image's contents without Docker. Dependencies come from the package index: slow-ish
(about half a minute), but part of the default suite.
"""

import configparser
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psycopg
import pytest

from tests.support.ports import free_port
from tests.test_container_files import APP_DOCKERFILE, HEALTHCHECK_SCRIPT, copies, parse_dockerfile

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted((ROOT / "db" / "migrations").glob("*.sql"))
FUNCTIONS = sorted((ROOT / "db" / "functions").glob("*.sql"))
VIEWS = sorted((ROOT / "db" / "views").glob("*.sql"))
# Part of the SQL API contract in DESIGN.md: an installed wheel must create these.
CONTRACT_FUNCTIONS = ("create_topic", "create_queue", "publish", "consume", "ack", "nack", "cleanup")


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would let the checkout leak in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP") and not key.startswith("FASTQUEUE_")
    }
    env.update(extra)
    return env


def _run(command: list[str], cwd: Path, timeout: float, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=_clean_env(**env), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel --no-deps .`, as the Dockerfile's build stage does, in a copy of the checkout's files
    (git's tracked and untracked, not its ignored ones): setuptools builds in the source tree, and a
    build/ left in the checkout would carry modules that no longer exist into the wheel."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        origin = ROOT / name
        if origin.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)], out, 180)
    wheels = list(out.glob("fastqueue-*.whl"))
    assert len(wheels) == 1, f"expected one fastqueue wheel, found {[w.name for w in out.iterdir()]}"
    return wheels[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A new, empty virtualenv with only the wheel (and its dependencies from the index) in it, made as
    the Dockerfile's runtime stage makes it: a venv without pip, installed into by the outer pip
    (`pip --python`; here the test venv's current pip, which reads the index pages about three times
    faster than the pip 23.2 a new venv would get)."""
    venv = tmp_path_factory.mktemp("venv") / "fastqueue"
    assert ROOT not in venv.parents, "the fresh venv must live outside the checkout"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], venv.parent, 120)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
        ],
        venv.parent,
        300,
    )
    return venv


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory that is not the checkout (no db/, no app/, no .env)."""
    assert ROOT not in tmp_path.parents
    return tmp_path


def test_the_checkout_has_sql_to_package() -> None:
    assert MIGRATIONS, "db/migrations/*.sql is empty"
    assert FUNCTIONS, "db/functions/*.sql is empty"
    assert VIEWS, "db/views/*.sql is empty"


def test_wheel_carries_every_migration_and_function_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for folder, files in (("migrations", MIGRATIONS), ("functions", FUNCTIONS), ("views", VIEWS)):
            packaged = {name for name in names if name.startswith(f"fastqueue/db/{folder}/") and name.endswith(".sql")}
            expected = {f"fastqueue/db/{folder}/{path.name}" for path in files}
            assert packaged == expected, f"fastqueue/db/{folder} in the wheel differs from db/{folder}"
            for path in files:
                assert archive.read(f"fastqueue/db/{folder}/{path.name}") == path.read_bytes(), (
                    f"{path.name} in the wheel is not the checkout's"
                )
        bookkeeping = ROOT / "db" / "schema_migrations.sql"
        assert archive.read("fastqueue/db/schema_migrations.sql") == bookkeeping.read_bytes()


def test_wheel_carries_the_package_as_fastqueue_and_nothing_else(wheel: Path) -> None:
    """app/ of the checkout is the package `fastqueue` in the wheel: every module and console file
    under its new name (a package added under app/ but not to pyproject.toml's list fails here), and no
    top-level `app` that would collide with another project's."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    files = {
        "fastqueue/" + path.relative_to(ROOT / "app").as_posix()
        for path in (ROOT / "app").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert files <= names, f"missing from the wheel: {sorted(files - names)}"
    top_level = {name.split("/", 1)[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"fastqueue"}, top_level
    python_files = {name for name in names if name.endswith(".py")}
    assert python_files == {name for name in files if name.endswith(".py")}, "the wheel has modules app/ does not"


def test_dockerfile_build_stage_context_builds_the_same_wheel(wheel: Path, tmp_path: Path) -> None:
    """Replays the build stage's COPYs into an empty folder (no .git, nothing else) and builds there:
    the Docker build gets the same wheel as a build from the checkout."""
    src = tmp_path / "src"
    src.mkdir()
    for copy in copies(parse_dockerfile(APP_DOCKERFILE), stage=0):
        assert copy.from_stage is None and not copy.dest.startswith("/"), "build-stage COPYs are relative to WORKDIR"
        for source in copy.sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(
                    origin, src / copy.dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                target = src / copy.dest / origin.name if copy.dest.endswith("/") else src / copy.dest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target)
    out = tmp_path / "out"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)], tmp_path, 180)
    (docker_wheel,) = out.glob("fastqueue-*.whl")
    with zipfile.ZipFile(docker_wheel) as built_in_docker, zipfile.ZipFile(wheel) as built_here:
        assert sorted(built_in_docker.namelist()) == sorted(built_here.namelist())


def test_wheel_declares_the_fastqueue_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entry_points = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        assert len(entry_points) == 1, "the wheel has no entry_points.txt: no `fastqueue` command"
        parser = configparser.ConfigParser()
        parser.read_string(archive.read(entry_points[0]).decode())
    assert parser.has_section("console_scripts")
    assert parser.get("console_scripts", "fastqueue", fallback="").strip() == "fastqueue.commands.cli:main"


def test_installed_fastqueue_help_lists_the_commands(installed: Path, outside: Path) -> None:
    executable = installed / "bin" / "fastqueue"
    assert executable.is_file(), "pip did not install a `fastqueue` script"
    result = _run([str(executable), "--help"], outside, 60)
    for command in ("server", "worker", "db-migrate"):
        assert command in result.stdout, f"`fastqueue --help` does not mention {command}:\n{result.stdout}"


def test_installed_package_reads_its_sql_from_the_wheel(installed: Path, outside: Path) -> None:
    result = _run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import fastqueue, fastqueue.database.sql_files as f; print(fastqueue.__file__); print(f.sql_root());"
            " print(len(f.migration_files()), len(f.repeatable_files()))",
        ],
        outside,
        60,
    )
    package_file, sql_root, counts = result.stdout.split("\n")[:3]
    assert Path(package_file).is_relative_to(installed), f"imported fastqueue from {package_file}, not the fresh venv"
    assert Path(sql_root).is_relative_to(installed), f"SQL read from {sql_root}, not from the installed wheel"
    assert counts.split() == [str(len(MIGRATIONS)), str(len(FUNCTIONS) + len(VIEWS))]


def test_installed_venv_has_no_app_package(installed: Path, outside: Path) -> None:
    """Installing fastqueue must not put a top-level `app` into site-packages."""
    result = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import app"],
        cwd=outside,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0, "`import app` works in a venv that has only fastqueue installed"
    assert "No module named 'app'" in result.stderr, result.stderr
    site_packages = list(installed.glob("lib/python*/site-packages"))
    assert len(site_packages) == 1
    assert not (site_packages[0] / "app").exists()
    assert (site_packages[0] / "fastqueue" / "gateway" / "console" / "index.html").is_file()


def test_installed_db_migrate_migrates_an_empty_database(
    installed: Path, outside: Path, empty_database_url: str
) -> None:
    # The quickstart's URL form, as `docker run -e FASTQUEUE_DATABASE_URL=... fastqueue db-migrate` gets it.
    quickstart_url = empty_database_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    assert quickstart_url.startswith("postgresql+psycopg2://")
    result = _run(
        [str(installed / "bin" / "fastqueue"), "db-migrate"], outside, 120, FASTQUEUE_DATABASE_URL=quickstart_url
    )
    output = result.stdout + result.stderr
    for path in MIGRATIONS:
        assert any(path.name in line and "applied" in line for line in output.splitlines()), (
            f"db-migrate did not report applying {path.name}:\n{output}"
        )

    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        assert conn.execute("select to_regclass('fastqueue.topics')").fetchone() == ("fastqueue.topics",)
        versions = {row[0] for row in conn.execute("select version from fastqueue.schema_migrations")}
        assert versions == {path.name.split("_", 1)[0] for path in MIGRATIONS}
        functions = {
            row[0]
            for row in conn.execute(
                "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = 'fastqueue'"
            )
        }
    missing = set(CONTRACT_FUNCTIONS) - functions
    assert not missing, f"the installed wheel's db-migrate did not create {sorted(missing)}"


def test_installed_server_passes_the_image_healthcheck(installed: Path, outside: Path, database_url: str) -> None:
    """`fastqueue server` from the fresh venv, probed by docker/healthcheck.py as the image's HEALTHCHECK
    probes it: the whole runtime path of the container, minus Docker."""
    port = free_port()
    env = _clean_env(
        FASTQUEUE_DATABASE_URL=database_url.replace("postgresql://", "postgresql+psycopg2://", 1),
        FASTQUEUE_SERVER_HOST="127.0.0.1",
        FASTQUEUE_SERVER_PORT=str(port),
    )
    server = subprocess.Popen(
        [str(installed / "bin" / "fastqueue"), "server"],
        cwd=outside,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    cmdline = outside / "cmdline"
    cmdline.write_bytes(b"\0".join([str(installed / "bin" / "python").encode(), b"fastqueue", b"server", b""]))
    probe = [sys.executable, str(HEALTHCHECK_SCRIPT)]
    probe_env = {**env, "FASTQUEUE_HEALTHCHECK_CMDLINE": str(cmdline)}
    try:
        deadline = time.monotonic() + 45
        while True:
            result = subprocess.run(probe, env=probe_env, capture_output=True, text=True, timeout=30, check=False)
            if result.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.3)
        assert server.poll() is None, f"fastqueue server exited {server.returncode}"
        assert result.returncode == 0, f"the image's healthcheck fails against the installed server: {result.stdout}"
        assert "/health: HTTP 200" in result.stdout
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert server.returncode == 0 or server.returncode == -15, f"server did not stop cleanly on SIGTERM:\n{output}"
