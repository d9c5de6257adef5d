"""The deployment files hold what the README promises: a non-root image with a health check and no settings baked in,
a compose file with the bot, the scheduler, PostgreSQL and Redis, and systemd units that stop the bot gently. PyYAML
is no dependency: compose.yaml is read as text here, and checked whole by `docker compose config` where a client is."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRETS = re.compile(r"TOKEN|PASSWORD|SECRET|DATABASE_URL|REDIS_URL|PROXY_URL", re.IGNORECASE)
SERVICES = {"migrate", "bot", "scheduler", "postgres", "redis"}


def instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split()[0].upper(), line.split(maxsplit=1)[1]) for line in joined.splitlines() if line.strip()]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    last_from = max(index for index, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_the_image_is_slim_and_runs_as_an_unprivileged_user() -> None:
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim-bookworm")
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert ("CMD", '["loyalty-bot", "run"]') in stage


def test_the_image_installs_the_postgresql_client_of_the_compose_servers_version_and_no_more() -> None:
    installs = [
        arguments for keyword, arguments in final_stage() if keyword == "RUN" and "apt-get install" in arguments
    ]
    server = re.search(r"image: postgres:(\d+)\n", (ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert server is not None and len(installs) == 1
    assert f"postgresql-client-{server[1]}" in installs[0].split()
    assert "--no-install-recommends" in installs[0] and "rm -rf /var/lib/apt/lists/*" in installs[0]


def test_the_image_checks_the_bots_health_endpoint() -> None:
    checks = [arguments for keyword, arguments in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1 and "/healthz" in checks[0] and "WEB_PORT" in checks[0]
    variables = [word for keyword, arguments in final_stage() if keyword == "ENV" for word in arguments.split()]
    assert "WEB_PORT=8080" in variables


def test_no_setting_is_baked_into_the_image() -> None:
    steps = instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert not [arguments for keyword, arguments in steps if keyword in {"ENV", "ARG"} and SECRETS.search(arguments)]
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"  # everything is left out but what is let in by name
    assert not [rule for rule in rules if rule.startswith("!") and re.search(r"env|data|\.git", rule)]


def test_compose_runs_the_bot_the_scheduler_postgres_and_redis() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    for command in ("run", "scheduler", "migrate"):
        assert f'command: ["loyalty-bot", "{command}"]' in compose
    assert "image: postgres:15\n" in compose and "image: redis:7\n" in compose
    assert compose.count("condition: service_healthy") >= 4 and "condition: service_completed_successfully" in compose
    assert "env_file: .env" in compose


def test_compose_takes_every_secret_from_the_env_file() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    values = [line.split(":", 1)[1] for line in compose.splitlines() if re.match(r"\s+\w*PASSWORD\w*:", line)]
    assert values and all(value.strip().startswith("${POSTGRES_PASSWORD:?") for value in values)
    assert re.findall(r"//loyalty:([^@]*)@", compose) == ["${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"]


def service(compose: str, name: str) -> str:
    """One service's lines of compose.yaml (under `services:`, indented by two spaces)."""
    found = re.search(rf"^  {name}:\n((?:    .*\n|\s*#.*\n)*)", compose, re.MULTILINE)
    assert found is not None, name
    return found[1]


def test_compose_checks_the_scheduler_s_health_on_a_port_it_does_not_publish() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    shared = compose.split("\nservices:\n")[0]
    assert re.search(r"^    WEB_PORT: \"8080\"", shared, re.MULTILINE)
    scheduler = service(compose, "scheduler")
    assert "<<: *loyalty-bot" in scheduler and "healthcheck" not in scheduler and "ports" not in scheduler
    assert "environment" not in scheduler  # it would replace the shared settings, WEB_PORT among them


def compose_client() -> list[str] | None:
    """`docker compose` (the plugin) or the standalone `docker-compose`, whichever this machine has."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_docker_compose_reads_the_file(tmp_path: Path) -> None:
    client = compose_client()
    if client is None:
        pytest.skip("no docker compose client on this machine")
    shutil.copy(ROOT / "compose.yaml", tmp_path)
    (tmp_path / ".env").write_text("BOT_TOKEN=\n", encoding="utf-8")
    missing = subprocess.run([*client, "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD in .env" in missing.stderr
    (tmp_path / ".env").write_text("BOT_TOKEN=\nPOSTGRES_PASSWORD=x\n", encoding="utf-8")
    services = subprocess.run([*client, "config", "--services"], cwd=tmp_path, capture_output=True, text=True)
    assert services.returncode == 0, services.stderr
    assert set(services.stdout.split()) == SERVICES


@pytest.mark.parametrize(("unit", "command"), [("loyalty-bot", "run"), ("loyalty-bot-scheduler", "scheduler")])
def test_the_systemd_units_run_as_their_own_user_and_stop_gently(unit: str, command: str) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / f"{unit}.service", encoding="utf-8")
    service = parser["Service"]
    assert service["User"] == "loyalty" and service["ExecStart"].endswith(f" {command}")
    assert (service["Restart"], service["KillSignal"], service["TimeoutStopSec"]) == ("on-failure", "SIGTERM", "30")
    assert service["RestartPreventExitStatus"] == "2"  # a configuration error is not mended by restarting
