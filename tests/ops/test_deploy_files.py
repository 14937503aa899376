"""The deployment files: compose.yaml, the systemd units, the nginx site, the crontab line.

Docker and nginx are not available everywhere, so compose.yaml and the nginx
site are checked for what the app needs from them; the systemd units and the
crontab line are run for real (their commands, with the install paths pointed
at this checkout).
"""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import resolve
from django.utils import timezone

from apps.accounts.models import EmailConfirmation, User
from apps.patches.models import PatchChangeNotification
from apps.patches.services import patch_update
from config import heartbeat
from tests.factories import default_state, make_patch, make_project, make_user
from tests.ops.conftest import BIN, ROOT, live, process_env, stop_process

DEPLOY = ROOT / "deploy"
SETTINGS_SOURCE = (ROOT / "config" / "settings.py").read_text()
APP_SERVICES = ("web", "worker", "webhooks", "beat")


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def read_unit(path: Path) -> dict[str, dict[str, str]]:
    """A systemd unit as {section: {key: value}} (our units set each key once)."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        assert key not in current, f"{path.name}: {key} set twice"
        current[key] = value
    return sections


UNITS = {
    "web": DEPLOY / "systemd" / "patchwork-web@.service",
    "worker": DEPLOY / "systemd" / "patchwork-worker.service",
    "webhooks": DEPLOY / "systemd" / "patchwork-webhooks.service",
    "beat": DEPLOY / "systemd" / "patchwork-beat.service",
}


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def program(command: str) -> list[str]:
    """The command without paths and options: e.g. ['celery', 'config', 'worker']."""
    words = shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        return program(words[2])
    words = shlex.split(command.split("&&")[-1])
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("-b", "-p", "--bind", "--port"):
            skip = True
            continue
        if word.startswith("-") or re.fullmatch(r"[A-Z_]+=\S*", word):
            continue
        out.append(Path(word).name if "/" in word else word)
    return out


# --- compose.yaml ---------------------------------------------------------------


def test_compose_brings_up_postgres_redis_web_worker_and_beat():
    compose = load_compose()
    services = compose["services"]
    assert set(services) >= {"db", "redis", *APP_SERVICES}
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "healthcheck" in services["db"]
    for volume in services["db"]["volumes"]:
        assert volume.split(":")[0] in compose["volumes"]

    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == "."
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert re.search(r"@db:5432/", env["DATABASE_URL"])
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["DEBUG"] == "0"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert "redis" in service["depends_on"]

    assert program(services["web"]["command"]) == ["daphne", "config.asgi:application"]
    assert "manage.py migrate" in services["web"]["command"]
    assert program(services["worker"]["command"]) == ["celery", "config", "worker"]
    assert program(services["webhooks"]["command"]) == ["celery", "config", "worker", "webhooks"]
    assert program(services["beat"]["command"]) == ["celery", "config", "beat"]
    assert services["web"]["ports"] == ["8000:8000"]


def test_compose_processes_can_write_where_they_write():
    """The image's /app is root's; the app user writes its beat schedule and static files to /tmp."""
    services = load_compose()["services"]
    assert "--schedule=/tmp/" in services["beat"]["command"]
    assert services["web"]["environment"]["STATIC_ROOT"].startswith("/tmp/")


def test_compose_web_healthcheck_asks_healthz():
    check = load_compose()["services"]["web"]["healthcheck"]["test"]
    url = re.search(r"http://localhost:8000(/\S*?)'", " ".join(check)).group(1)
    assert resolve(url).url_name == "healthz"
    assert "localhost" in load_compose()["services"]["web"]["environment"]["ALLOWED_HOSTS"]


def test_compose_and_env_example_set_only_real_settings():
    env = load_compose()["services"]["web"]["environment"]
    example = (DEPLOY / "patchwork.env.example").read_text().splitlines()
    names = set(env) | {
        line.split("=", 1)[0] for line in example if line.strip() and not line.startswith("#")
    }
    for name in names:
        base = name.removesuffix("_FILE")
        assert f'"{base}"' in SETTINGS_SOURCE, f"{name} is not read by config/settings.py"


def test_docker_compose_config_accepts_it():
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("docker compose is not installed here; the YAML tests above check the file")
    result = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        env={"SECRET_KEY": "x", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# --- Procfile, systemd units ----------------------------------------------------------


def test_procfile_systemd_and_compose_run_the_same_programs():
    services = load_compose()["services"]
    for name in APP_SERVICES:
        unit = read_unit(UNITS[name])
        expected = program(procfile()[name])
        assert program(unit["Service"]["ExecStart"]) == expected, name
        assert program(services[name]["command"]) == expected, name


def test_webhook_deliveries_have_their_own_thread_pool_process_everywhere():
    """Procfile, compose and systemd run the `webhooks` queue on threads with pooled
    connections, and the general worker does not take that queue."""
    services = load_compose()["services"]
    unit = read_unit(UNITS["webhooks"])["Service"]
    commands = [procfile()["webhooks"], services["webhooks"]["command"], unit["ExecStart"]]
    for command in commands:
        words = shlex.split(command)
        assert words[words.index("-Q") + 1] == "webhooks", command
        assert "--pool=threads" in words, command
        assert int(re.search(r"--concurrency=(\d+)", command).group(1)) >= 20, command
    assert "DATABASE_POOL_SIZE=10 " in procfile()["webhooks"]
    assert services["webhooks"]["environment"]["DATABASE_POOL_SIZE"] == "10"
    assert unit["Environment"] == "DATABASE_POOL_SIZE=10"
    for general in (procfile()["worker"], services["worker"]["command"]):
        assert "-Q" not in general and "webhooks" not in general
    assert settings.CELERY_TASK_ROUTES["webhooks.deliver"] == {"queue": "webhooks"}


def test_systemd_units_are_complete():
    target = read_unit(DEPLOY / "systemd" / "patchwork.target")
    wanted = target["Unit"]["Wants"].split()
    assert "patchwork-worker.service" in wanted
    assert "patchwork-webhooks.service" in wanted
    assert "patchwork-beat.service" in wanted
    assert any(re.fullmatch(r"patchwork-web@\d+\.service", w) for w in wanted)
    for name, path in UNITS.items():
        unit = read_unit(path)
        service = unit["Service"]
        assert service["User"] == "patchwork", name
        assert service["EnvironmentFile"] == "/etc/patchwork/patchwork.env", name
        assert service["Restart"] == "always", name
        assert unit["Unit"]["PartOf"] == "patchwork.target", name
        assert unit["Install"]["WantedBy"] == "patchwork.target", name
    beat = read_unit(UNITS["beat"])["Service"]
    assert "--schedule=/var/lib/patchwork/" in beat["ExecStart"]
    assert beat["StateDirectory"] == "patchwork"
    assert "--proxy-headers" in read_unit(UNITS["web"])["Service"]["ExecStart"]


def localised(command: str, tmp_path: Path, port: int | None = None) -> list[str]:
    """A unit's ExecStart with its install paths pointed at this checkout."""
    command = (
        command.replace("/opt/patchwork/.venv/bin/", f"{BIN}/")
        .replace("/var/lib/patchwork", str(tmp_path))
        .replace("%H", socket.gethostname())
    )
    if port is not None:
        command = command.replace("%i", str(port))
    return shlex.split(command)


def test_systemd_analyze_verifies_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    for path in [*UNITS.values(), DEPLOY / "systemd" / "patchwork.target"]:
        text = path.read_text().replace("/opt/patchwork/.venv/bin/", f"{BIN}/")
        text = text.replace("/opt/patchwork", str(ROOT))
        name = path.name.replace("@.", "@8001.")
        (tmp_path / name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    result = subprocess.run(
        [analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=120
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        # Other units named in After= (postgresql, redis) need not exist here.
        if line.strip() and "not found" not in line and "Failed to" not in line
    ]
    assert problems == []


@pytest.mark.django_db
def test_the_units_commands_bring_up_a_healthy_instance(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("needs a real Redis (set REDIS_URL) for the worker and beat")
    client = heartbeat._client()
    for key in client.scan_iter(match=heartbeat.PREFIX + "*"):
        client.delete(key)
    env = process_env(CELERY_TASK_ALWAYS_EAGER="0")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    processes = []
    logs = []
    try:
        for name in ("worker", "webhooks", "beat", "web"):
            command = localised(read_unit(UNITS[name])["Service"]["ExecStart"], tmp_path, port)
            log = tmp_path / f"{name}.log"
            logs.append(log)
            with open(log, "wb") as out:
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        host = socket.gethostname()
        deadline = time.monotonic() + 60
        while True:  # the two workers start at their own pace
            body = wait_healthy(f"http://127.0.0.1:{port}/healthz", logs)
            alive = body["checks"]["workers"]["alive"]
            if {f"worker@{host}", f"webhooks@{host}"} <= set(alive):
                break
            assert time.monotonic() < deadline, alive
            time.sleep(0.5)
        assert (tmp_path / "celerybeat-schedule").exists() or any(
            p.name.startswith("celerybeat-schedule") for p in tmp_path.iterdir()
        )
    finally:
        for process in processes:
            stop_process(process)
        for key in client.scan_iter(match=heartbeat.PREFIX + "*"):
            client.delete(key)


def wait_healthy(url: str, logs: list[Path], timeout: float = 90) -> dict:
    import json
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            last = exc.read().decode(errors="replace")
        except OSError as exc:
            last = str(exc)
        time.sleep(0.3)
    output = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in logs)
    pytest.fail(f"instance never became healthy: {last}\n{output}")


# --- nginx ------------------------------------------------------------------------


def nginx_site() -> str:
    return (DEPLOY / "nginx" / "patchwork.conf").read_text()


def locations(site: str) -> dict[str, str]:
    return {
        m.group(1).strip(): m.group(2)
        for m in re.finditer(r"location\s+([^{]+?)\s*\{(.*?)\n    \}", site, re.S)
    }


def test_nginx_proxies_to_the_web_units_of_the_target():
    site = nginx_site()
    upstream = re.search(r"upstream patchwork_web \{(.*?)\}", site, re.S).group(1)
    ports = set(re.findall(r"server 127\.0\.0\.1:(\d+);", upstream))
    wanted = read_unit(DEPLOY / "systemd" / "patchwork.target")["Unit"]["Wants"]
    assert ports == set(re.findall(r"patchwork-web@(\d+)\.service", wanted))


def test_nginx_passes_websockets_for_the_live_pages():
    from apps.live.routing import websocket_urlpatterns

    site = nginx_site()
    ws = locations(site)["/ws/"]
    for pattern in websocket_urlpatterns:
        assert pattern.pattern.regex.pattern.startswith("^ws/")
    assert "proxy_http_version 1.1;" in ws
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert re.search(r"proxy_set_header Connection \$\w+;", ws)
    assert re.search(r"map \$http_upgrade \$\w+ \{\s*default upgrade;", site)
    assert re.search(r"proxy_read_timeout (\d+h|\d{4,}s?);", ws)


def test_nginx_tells_django_about_https_and_hosts():
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    for path, block in locations(nginx_site()).items():
        if "proxy_pass" in block:
            assert "proxy_set_header X-Forwarded-Proto $scheme;" in block, path
            assert "proxy_set_header Host $host;" in block, path


def test_nginx_accepts_mail_as_big_as_the_intake_does():
    size = re.search(r"client_max_body_size (\d+)m;", nginx_site()).group(1)
    assert int(size) * 1024 * 1024 >= 50 * 1024 * 1024  # MAX_MAIL_SIZE's default


def test_nginx_serves_static_files_from_static_root():
    alias = re.search(r"alias (\S+);", locations(nginx_site())["/static/"]).group(1)
    example = (DEPLOY / "patchwork.env.example").read_text()
    static_root = re.search(r"^STATIC_ROOT=(\S+)$", example, re.M).group(1)
    assert alias.rstrip("/") == static_root.rstrip("/")


def test_nginx_accepts_the_site(tmp_path):
    nginx = shutil.which("nginx")
    if not nginx:
        pytest.skip("nginx is not installed; the tests above check the site's content")
    site = nginx_site().replace("listen 443 ssl;", "listen 127.0.0.1:0 ssl;")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"error_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    # Certificates are not here; everything else must parse.
    assert result.returncode == 0 or "ssl_certificate" in result.stderr, result.stderr


# --- cron --------------------------------------------------------------------------


def crontab_command() -> str:
    lines = (DEPLOY / "cron" / "patchwork").read_text().splitlines()
    entries = [line for line in lines if re.match(r"^[*0-9/,-]+(\s+[*0-9/,-]+){4}\s", line)]
    assert len(entries) == 1
    fields = entries[0].split(None, 6)
    assert fields[0] == "*/10"  # NOTIFICATION_DELAY_MINUTES' default
    assert fields[5] == "patchwork"  # /etc/cron.d lines name the user
    return fields[6]


@live
def test_the_crontab_line_runs_the_periodic_jobs(tmp_path, maintainer, submitter):
    project = make_project("cronline", send_notifications=True, maintainers=[maintainer])
    patch_update(
        patch=make_patch(project, submitter=submitter),
        actor=maintainer,
        state=default_state("accepted"),
    )
    stale = make_user("stale", is_active=False)
    EmailConfirmation.objects.create(
        type=EmailConfirmation.REGISTRATION,
        email=stale.email,
        user=stale,
        date=timezone.now() - timedelta(days=settings.CONFIRMATION_VALIDITY_DAYS + 1),
    )
    env = process_env(
        NOTIFICATION_DELAY_MINUTES="0",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    env_file = tmp_path / "patchwork.env"
    env_file.write_text(
        "".join(
            f"{key}={shlex.quote(env[key])}\n"
            for key in (
                "DATABASE_URL",
                "DEBUG",
                "SECRET_KEY",
                "NOTIFICATION_DELAY_MINUTES",
                "EMAIL_BACKEND",
                "CELERY_TASK_ALWAYS_EAGER",
            )
        )
    )
    command = (
        crontab_command()
        .replace("/opt/patchwork", str(ROOT))
        .replace(".venv/bin/python", sys.executable)
        .replace("/etc/patchwork/patchwork.env", str(env_file))
    )
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    if settings.REDIS_URL:
        bare["REDIS_URL"] = settings.REDIS_URL

    result = subprocess.run(
        ["/bin/sh", "-c", command], env=bare, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr
    assert not PatchChangeNotification.objects.exists()
    assert not User.objects.filter(pk=stale.pk).exists()
