"""compose.yaml, the Dockerfile and .dockerignore agree with the code they deploy.

Pure checks: no Docker, no network. They read the files as text/YAML and compare them with
``booking.settings`` (the variables the service reads and how it validates them) and
``booking.cli`` (the subcommands it has), so a rename on either side fails here first.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from booking.cli import _parser
from booking.settings import ENV_PREFIX, Settings, env_names, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

INFRA_SERVICES = ("postgres", "redis", "mailpit")
APP_SERVICES = ("migrate", "api", "worker")
SCALABLE_SERVICES = ("api", "worker")

# What an operator would export for the required ``${VAR:?...}`` placeholders.
PLAUSIBLE: Mapping[str, str] = {
    "POSTGRES_PASSWORD": "3f9c1d0e7b2a4c6e8f1a3b5d7e9f0a2c",
    "BOOKING_SECRET_KEY": "q" * 64,
    "BOOKING_PUBLIC_URL": "https://termine.example.org",
}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a "$".
_PLACEHOLDER = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


# --- helpers ---------------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


def services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict), "compose.yaml has no services"
    return found


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or as KEY=value items."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {key: value for key, _, value in pairs}
    assert isinstance(env, dict)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def command(service: Mapping[str, Any]) -> list[str]:
    cmd = service.get("command")
    if isinstance(cmd, str):
        return cmd.split()
    assert isinstance(cmd, list), "an app service needs an explicit command"
    return [str(word) for word in cmd]


def placeholders(value: str) -> list[tuple[str, str, str]]:
    """(name, operator, argument) of every ``${...}`` in a value."""
    return [
        (m["name"], m["op"] or "", m["arg"] or "")
        for m in _PLACEHOLDER.finditer(value)
        if m["name"] is not None
    ]


def interpolate(value: str, given: Mapping[str, str] = PLAUSIBLE) -> str:
    """Compose's variable substitution, with ``given`` standing in for the operator's shell."""

    def substitute(match: re.Match[str]) -> str:
        name, op = match["name"], match["op"] or ""
        if name is None:
            return "$"
        unset = name not in given or (op.startswith(":") and given[name] == "")
        if not unset:
            return given[name]
        if op.endswith("-"):
            return str(match["arg"])
        # Compose refuses to start; here it means PLAUSIBLE lacks a value for a new variable.
        assert not op.endswith("?"), f"required ${{{name}}} is unset; add it to PLAUSIBLE"
        return ""

    return _PLACEHOLDER.sub(substitute, value)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            choices: dict[str, argparse.ArgumentParser] = action.choices
            return choices
    raise AssertionError("booking's parser has no subcommands")


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    instructions = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerignore_entries(path: Path = DOCKERIGNORE) -> set[str]:
    return {
        line.strip().rstrip("/").removeprefix("./")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "the Dockerfile has no FROM"
    return instructions[starts[-1] :]


# --- compose: shape -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def test_all_services_of_the_production_shape_exist(compose: dict[str, Any]) -> None:
    missing = set(INFRA_SERVICES + APP_SERVICES) - set(services(compose))
    assert not missing, f"compose.yaml lacks {sorted(missing)}"


def test_shared_environment_is_one_anchor(compose: dict[str, Any]) -> None:
    shared = compose.get("x-booking-env")
    assert isinstance(shared, dict), "x-booking-env (&booking-env) is missing"
    for name in APP_SERVICES:
        env = environment(services(compose)[name])
        differs = {key for key, value in shared.items() if env.get(key) != str(value)}
        assert not differs, f"{name} does not use the shared environment for {sorted(differs)}"


def test_every_booking_variable_is_read_by_the_service(compose: dict[str, Any]) -> None:
    known = env_names()
    unknown = {
        f"{name}: {key}"
        for name, service in services(compose).items()
        for key in environment(service)
        if key.startswith(ENV_PREFIX) and key not in known
    }
    assert not unknown, f"variables booking.settings does not read: {sorted(unknown)}"


def test_app_commands_are_real_booking_subcommands(compose: dict[str, Any]) -> None:
    valid = subcommands()
    assert {"serve", "worker", "migrate"} <= set(valid)
    expected = {"migrate": "migrate", "api": "serve", "worker": "worker"}
    for name, subcommand in expected.items():
        argv = command(services(compose)[name])
        assert argv[0] in valid, f"{name}: 'booking {argv[0]}' does not exist"
        assert argv[0] == subcommand, f"{name} should run 'booking {subcommand}'"
        # The options must parse too (argparse exits on an unknown or malformed one).
        args = _parser().parse_args(argv)
        assert args.command == subcommand


def test_api_serves_on_the_exposed_port(compose: dict[str, Any]) -> None:
    args = _parser().parse_args(command(services(compose)["api"]))
    assert args.workers >= 1
    assert args.port == 8000, "the image EXPOSEs and health-checks port 8000"


def host_ports(service: Mapping[str, Any]) -> list[str]:
    """The published host part of each port ("" when Docker picks one)."""
    found = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):  # long syntax
            found.append(str(port.get("published") or ""))
            continue
        # short syntax: [IP:][HOST:]CONTAINER[/PROTOCOL]
        parts = str(port).split("/")[0].split(":")
        found.append(parts[-2] if len(parts) >= 2 else "")
    return found


def test_api_and_worker_scale(compose: dict[str, Any]) -> None:
    for name in SCALABLE_SERVICES:
        service = services(compose)[name]
        assert "container_name" not in service, f"{name} has a container_name: cannot scale"
        for host in host_ports(service):
            # Empty: an ephemeral port per replica; a range: a free port of it per replica.
            assert host == "" or "-" in host, f"{name} publishes fixed host port {host}"


def test_host_port_parsing() -> None:
    def ports(*specs: object) -> list[str]:
        return host_ports({"ports": list(specs)})

    assert ports("8000", "127.0.0.1::8000", "127.0.0.1:8000-8009:8000", "8000:8000/tcp") == [
        "",
        "",
        "8000-8009",
        "8000",
    ]
    assert ports({"target": 8000}, {"target": 8000, "published": "8080"}) == ["", "8080"]


def test_migrate_runs_once_before_api_and_worker(compose: dict[str, Any]) -> None:
    migrate = services(compose)["migrate"]
    assert migrate.get("restart") == "no", "migrate is one-shot"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in SCALABLE_SERVICES:
        depends = services(compose)[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_api_healthcheck_is_readiness(compose: dict[str, Any]) -> None:
    check = services(compose)["api"]["healthcheck"]
    test = check["test"]
    text = " ".join(test) if isinstance(test, list) else str(test)
    assert "/readyz" in text
    assert "127.0.0.1:8000" in text or "localhost:8000" in text
    assert "curl" not in text, "the slim image has no curl"
    assert "wget" not in text, "the slim image has no wget"


def test_non_http_app_services_switch_off_the_image_healthcheck(compose: dict[str, Any]) -> None:
    for name in ("migrate", "worker"):
        check = services(compose)[name].get("healthcheck") or {}
        assert check.get("disable") is True, f"{name} would inherit the image's /healthz check"


def test_infrastructure_has_healthchecks_and_volumes(compose: dict[str, Any]) -> None:
    postgres, redis = services(compose)["postgres"], services(compose)["redis"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "ping" in " ".join(redis["healthcheck"]["test"])
    assert "appendonly" in " ".join(redis.get("command") or [])
    volumes = set(compose.get("volumes") or {})
    for service in (postgres, redis):
        named = {str(v).split(":")[0] for v in service.get("volumes") or []}
        assert named & volumes, "data must live in a named volume"


# --- compose: values against settings -------------------------------------------------------


def app_settings(compose: Mapping[str, Any], name: str) -> Settings:
    env = {key: interpolate(value) for key, value in environment(services(compose)[name]).items()}
    return load_settings(env)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_settings_accept_the_production_values(compose: dict[str, Any], name: str) -> None:
    settings = app_settings(compose, name)  # raises SettingsError on any drift
    assert settings.dev_mode is False


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_the_compose_services(compose: dict[str, Any], name: str) -> None:
    settings = app_settings(compose, name)
    database = urlsplit(settings.database_url)
    assert database.hostname == "postgres"
    assert database.path.lstrip("/") == services(compose)["postgres"]["environment"]["POSTGRES_DB"]
    assert database.username == services(compose)["postgres"]["environment"]["POSTGRES_USER"]
    assert database.password == PLAUSIBLE["POSTGRES_PASSWORD"]
    assert urlsplit(settings.redis_url).hostname == "redis"
    assert settings.smtp_host == "mailpit"
    assert settings.smtp_port == 1025
    assert settings.smtp_security == "none"


def test_secrets_come_only_from_the_environment(compose: dict[str, Any]) -> None:
    def required(value: str, name: str) -> bool:
        # ${NAME:?message}: compose refuses to start without it, and there is no default.
        return any(var == name and op == ":?" for var, op, _ in placeholders(value))

    for name in APP_SERVICES:
        env = environment(services(compose)[name])
        assert required(env["BOOKING_SECRET_KEY"], "BOOKING_SECRET_KEY"), (
            f"{name}: BOOKING_SECRET_KEY must be ${{BOOKING_SECRET_KEY:?...}}, never a literal"
        )
        assert required(env["BOOKING_DATABASE_URL"], "POSTGRES_PASSWORD"), (
            f"{name}: the database password must be ${{POSTGRES_PASSWORD:?...}}"
        )
    postgres_env = environment(services(compose)["postgres"])
    assert required(postgres_env["POSTGRES_PASSWORD"], "POSTGRES_PASSWORD")


def test_interpolation_helper_follows_compose_rules() -> None:
    given = {"SET": "value", "EMPTY": ""}
    assert interpolate("${SET:-x}", given) == "value"
    assert interpolate("${EMPTY:-x}", given) == "x"
    assert interpolate("${EMPTY-x}", given) == ""
    assert interpolate("${UNSET:-a b}/$$", given) == "a b/$"
    assert interpolate("${UNSET}", given) == ""
    assert interpolate("${POSTGRES_PASSWORD:?need it}") == PLAUSIBLE["POSTGRES_PASSWORD"]
    with pytest.raises(AssertionError, match="UNSET"):
        interpolate("${UNSET:?need it}", given)
    with pytest.raises(AssertionError, match="EMPTY"):
        interpolate("${EMPTY:?need it}", given)


def test_settings_reject_a_drifted_value(compose: dict[str, Any]) -> None:
    """The check above has teeth: a value settings would refuse makes load_settings raise."""
    env = {key: interpolate(value) for key, value in environment(services(compose)["api"]).items()}
    for key, bad in (
        ("BOOKING_SMTP_SECURITY", "ssl"),
        ("BOOKING_REDIS_URL", "http://redis:6379/0"),
        ("BOOKING_SMTP_PORT", "smtp"),
    ):
        with pytest.raises(ValueError, match=key):
            load_settings({**env, key: bad})


# --- Dockerfile and .dockerignore -----------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions()


def test_dockerfile_is_multi_stage_on_python_311_slim(dockerfile: list[tuple[str, str]]) -> None:
    froms = [rest for keyword, rest in dockerfile if keyword == "FROM"]
    assert len(froms) >= 2, "build and runtime stages expected"
    args = " ".join(rest for keyword, rest in dockerfile if keyword == "ARG")
    text = " ".join(froms) + " " + args
    assert "python:3.11-slim" in text


def test_dockerfile_ships_migrations_and_frontend(dockerfile: list[tuple[str, str]]) -> None:
    copies = [rest.split() for keyword, rest in dockerfile if keyword == "COPY"]
    sources = {src.rstrip("/").removeprefix("./") for words in copies for src in words[:-1]}
    copies_tree = "." in sources
    assert copies_tree or {"sql", "frontend", "booking", "pyproject.toml"} <= sources, (
        "the build stage must copy booking/, sql/ and frontend/ (or the whole root)"
    )
    runs = " ".join(rest for keyword, rest in dockerfile if keyword == "RUN")
    assert re.search(r"pip (wheel|install)\b[^&;]*\s\.(\s|$)", runs), (
        "the wheel must be built from the project root (pip wheel . / pip install .)"
    )
    # A project-root build needs these in the context; .dockerignore must not drop them.
    ignored = dockerignore_entries()
    needed = {"sql", "frontend", "booking", "pyproject.toml", "README.md"}
    assert not ignored & needed, f".dockerignore drops {sorted(ignored & needed)}"


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = dockerignore_entries()
    for entry in (".venv", ".git", ".booking-dev"):
        assert entry in ignored, f".dockerignore should exclude {entry}"


def test_dockerfile_runtime_is_unprivileged(dockerfile: list[tuple[str, str]]) -> None:
    users = [rest for keyword, rest in final_stage(dockerfile) if keyword == "USER"]
    assert users, "the runtime stage must set a USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_runs_booking(dockerfile: list[tuple[str, str]]) -> None:
    stage = dict(final_stage(dockerfile))
    assert stage.get("ENTRYPOINT") == '["booking"]'
    assert stage.get("CMD") == '["serve"]'
    assert "8000" in stage.get("EXPOSE", "").split()
    healthcheck = stage.get("HEALTHCHECK", "")
    assert "urllib" in healthcheck, "the slim image has no curl; use python's urllib"
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    env = " ".join(rest for keyword, rest in final_stage(dockerfile) if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env


def test_dockerfile_bakes_in_no_secret(dockerfile: list[tuple[str, str]]) -> None:
    for keyword, rest in dockerfile:
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"SECRET|PASSWORD|TOKEN|DATABASE_URL", rest, re.IGNORECASE), (
                f"{keyword} {rest}: secrets are passed at run time, never built in"
            )
