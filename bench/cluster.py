"""A Kỹ năng số cluster on one machine, built from the files in deploy/ as they are shipped.

Two app nodes (gunicorn, the command line of deploy/systemd/kynangso-app@.service), Debian's
nginx in front of them with the site deploy/nginx/kynangso.conf, the scheduler (the command line
of deploy/systemd/kynangso-scheduler.service), a fresh PostgreSQL database and Redis for the
limits under a key prefix of its own. Every process reads the settings of
deploy/kynangso.env.example, with only the values that must differ here replaced (Cluster.environment).

    python bench/cluster.py            # start it, print the addresses, stop on Ctrl-C
    python bench/cluster.py --check    # start it, sign in through nginx and on both nodes, stop

The site runs as shipped, with only Cluster.site_values replaced: ports on 127.0.0.1 instead of 80 and
443 (no IPv6 listeners), a self-signed certificate for `localhost` instead of the real one, the
repository's static folder and the test's upstream ports. nginx runs in the foreground with its
own prefix, pid, logs and temporary folders in the cluster's folder; nothing of the machine's
nginx is used but its binary and mime.types.

Needs PostgreSQL on 127.0.0.1:5432 letting `postgres` in without a password (or
--admin-database-url), Redis on 127.0.0.1:6379 and `apt-get install nginx`. The database is
dropped, the Redis keys deleted and every process stopped when the cluster stops.

tests/cluster/conftest.py uses the same class as a pytest fixture.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SITE_FILE = DEPLOY / "nginx" / "kynangso.conf"
APP_UNIT = DEPLOY / "systemd" / "kynangso-app@.service"
SCHEDULER_UNIT = DEPLOY / "systemd" / "kynangso-scheduler.service"
ENV_TEMPLATE = DEPLOY / "kynangso.env.example"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
#: Where the units expect the installation (deploy/README.md).
INSTALLED_BIN = "/srv/kynangso/venv/bin/"
SCHEDULER_LOCK_KEY = int.from_bytes(b"KNS_JOBS", "big")
PASSWORD = "cluster horse battery staple"

#: The accounts the cluster creates (username, role, unit code, e-mail).
ACCOUNTS = (
    ("lan.resident", "resident", "D01-02", "lan@cluster.test"),
    ("minh.resident", "resident", "D01-02", "minh@cluster.test"),
    ("hoa.resident", "resident", "D01-01", "hoa@cluster.test"),
    ("an.manager", "department_manager", "DEMO", "an@cluster.test"),
)


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unit_command(unit: Path, **values: str) -> list[str]:
    """The ExecStart of a systemd unit as an argument list, with %i and ${NAME} filled from
    `values` and the installed virtualenv's programs run from this Python instead."""
    lines = [line for line in unit.read_text(encoding="utf-8").splitlines() if line.startswith("ExecStart=")]
    if len(lines) != 1:
        raise RuntimeError(f"{unit.name}: expected one ExecStart= line")
    command = lines[0].removeprefix("ExecStart=")
    command = command.replace("%i", values.pop("instance", ""))
    for name, value in values.items():
        command = command.replace("${" + name + "}", value)
    if "${" in command or "%" in command:
        raise RuntimeError(f"{unit.name}: a value of ExecStart= was not given: {command}")
    arguments = shlex.split(command)
    program = arguments[0]
    if not program.startswith(INSTALLED_BIN):
        raise RuntimeError(f"{unit.name}: ExecStart= does not start with {INSTALLED_BIN}")
    # gunicorn and flask run as modules of this interpreter (the installed ones' twins).
    return [sys.executable, "-m", program.removeprefix(INSTALLED_BIN), *arguments[1:]]


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile reads them (comments and blanks skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise RuntimeError(f"{path.name}: not KEY=value: {line}")
        values[key.strip()] = value.strip()
    return values


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def memory(self) -> dict[int, int]:
        """Resident memory (VmRSS, bytes) of each process of the group: a node's master and workers."""
        sizes = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.popen.pid:
                    continue
                status = (entry / "status").read_text()
            except (OSError, ProcessLookupError):
                continue
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, flags=re.MULTILINE)
            if rss:
                sizes[int(entry.name)] = int(rss.group(1)) * 1024
        return sizes

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def send(self, sig: int = signal.SIGTERM) -> None:
        """Signal the process's whole group (gunicorn's workers too)."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def finish(self, wait: float = 15) -> None:
        """Wait for the process to end, then kill whatever is left of its group."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(wait)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(5)

    def stop(self, sig: int = signal.SIGTERM, wait: float = 15) -> None:
        self.send(sig)
        self.finish(wait)

    def group_alive(self) -> bool:
        """Whether any process of its group is still running."""
        try:
            os.killpg(self.popen.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A process that ended but was not reaped yet (a zombie) still answers killpg; it has no
        # memory left, and does not count.
        return bool(self.memory())


@dataclass
class Cluster:
    admin_database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Gunicorn workers per node (WEB_CONCURRENCY).
    workers: int = 1
    nodes: int = 2
    #: How fast a waiting scheduler tries for the lock again (production: 30 s).
    lock_retry_seconds: float = 1.0
    #: An SMTP server for the scheduler's outbox sender (None: no e-mail).
    mail_port: int | None = None
    #: Start one scheduler with the cluster.
    scheduler: bool = True
    keep_folder: bool = False

    folder: Path = field(init=False)
    database_name: str = field(init=False)
    redis_prefix: str = field(init=False)
    node_ports: list[int] = field(init=False, default_factory=list)
    http_port: int = field(init=False, default=0)
    https_port: int = field(init=False, default=0)
    processes: list[Process] = field(init=False, default_factory=list)
    schedulers: dict[str, Process] = field(init=False, default_factory=dict)

    # --- addresses ----------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return make_url(self.admin_database_url).set(database=self.database_name).render_as_string(False)

    @property
    def url(self) -> str:
        """The public site, through nginx (HTTPS)."""
        return f"https://localhost:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://localhost:{self.http_port}"

    def node_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.node_ports[n]}"

    @property
    def certificate(self) -> Path:
        return self.folder / "tls" / "cert.pem"

    # --- start and stop -----------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="kns-cluster-"))
        self.folder.chmod(0o755)
        token = secrets.token_hex(4)
        self.database_name = f"kns_cluster_{token}"
        self.redis_prefix = f"kns-cluster-{token}"
        self.node_ports = [free_port() for _ in range(self.nodes)]
        self.http_port, self.https_port = free_port(), free_port()
        self.secret_key = secrets.token_hex(32)
        self.timings: dict[str, float] = {}
        try:
            self._create_database()
            with redis.Redis.from_url(self.redis_url) as client:
                client.ping()
            started = time.monotonic()
            # The nodes load the app while the database is set up; nobody is let in before both.
            for n, port in enumerate(self.node_ports):
                self._start_node(n, port)
            self._start_nginx()
            self.setup()
            self.timings["setup"] = time.monotonic() - started
            for n in range(self.nodes):
                self.wait_for(f"{self.node_url(n)}/healthz", f"node {n}")
            self.wait_for(f"{self.url}/healthz", "nginx")
            self.timings["serving"] = time.monotonic() - started
            if self.scheduler:
                self.start_scheduler("a")
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to see
                self.stop()
            raise

    def stop(self) -> None:
        started = time.monotonic()
        # All at once: gunicorn (SIGTERM: ends its workers after their request), the scheduler
        # (lets its job finish, releases the lock), nginx (fast shutdown).
        for process in self.processes:
            process.send()
        for process in reversed(self.processes):
            process.finish()
        self.stopped = list(self.processes)
        self.processes.clear()
        self.schedulers.clear()
        if getattr(self, "redis_prefix", None):
            client = redis.Redis.from_url(self.redis_url)
            try:
                for key in client.scan_iter(f"*{self.redis_prefix}*"):
                    client.delete(key)
            except redis.RedisError:
                pass
            finally:
                client.close()
        if getattr(self, "database_name", None):
            admin = create_engine(self.admin_database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)'))
            admin.dispose()
        if getattr(self, "folder", None) and not self.keep_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        if hasattr(self, "timings"):
            self.timings["stop"] = time.monotonic() - started

    def _create_database(self) -> None:
        admin = create_engine(self.admin_database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.database_name}"'))
        admin.dispose()

    def leftovers(self) -> list[str]:
        """The processes of a stopped cluster that still run (none, unless stopping failed)."""
        return [process.name for process in getattr(self, "stopped", []) if process.group_alive()]

    # --- the environment every process reads ----------------------------------------------------

    def environment(self, **extra: str) -> dict[str, str]:
        """The shipped environment file, with the values that must differ here."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_", "FLASK_"))}
        for key in ("APP_ENV", "PYTEST_CURRENT_TEST", "GUNICORN_CMD_ARGS"):
            env.pop(key, None)
        env.update(read_env_file(ENV_TEMPLATE))
        env.update(
            {
                "SECRET_KEY": self.secret_key,
                "DATABASE_URL": self.database_url,
                "RATELIMIT_STORAGE_URI": self.redis_url,
                "RATELIMIT_KEY_PREFIX": self.redis_prefix,
                "PUBLIC_URL": self.url,
                "WEB_CONCURRENCY": str(self.workers),
                "SCHEDULER_LOCK_RETRY_SECONDS": str(self.lock_retry_seconds),
                # Messages go out at any hour of the run, not only outside 21:00-07:00.
                "QUIET_HOURS": "",
                "MAIL_SERVER": "127.0.0.1" if self.mail_port else "",
                "MAIL_PORT": str(self.mail_port or 25),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        env.update(extra)
        return env

    def run_python(self, code: str, *, timeout: float = 120, **extra_env: str) -> str:
        """Run `code` in a new process with the cluster's environment, as on a node's machine;
        `app` (create_app()) is in scope and an app context is pushed. Returns its output."""
        program = "from app import create_app\napp = create_app()\nwith app.app_context():\n" + textwrap.indent(
            textwrap.dedent(code), "    "
        )
        return self._run([sys.executable, "-c", program], timeout, extra_env)

    def flask(self, *arguments: str, timeout: float = 120) -> str:
        """A `flask` command with the cluster's environment (e.g. courses sync)."""
        return self._run([sys.executable, "-m", "flask", "--app", "app:create_app", *arguments], timeout, {})

    def _run(self, command: list[str], timeout: float, extra_env: dict) -> str:
        done = subprocess.run(
            command,
            cwd=REPO,
            env=self.environment(**extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(command[:4])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def setup(self) -> None:
        """Migrations, the demo units, the shipped courses and a few accounts, in one process."""
        self.run_python(
            f"""
            from pathlib import Path
            from app.auth.models import User
            from app.extensions import db
            from app.units.operations import get_unit_by_code
            from app.users.operations import create_user_by_operator
            runner = app.test_cli_runner()
            for arguments in (["db", "upgrade"], ["units", "import", "app/demo/units.csv"], ["courses", "sync"]):
                result = runner.invoke(args=arguments)
                assert result.exit_code == 0, (arguments, result.output, result.exception)
            for username, role, unit, email in {ACCOUNTS!r}:
                user = create_user_by_operator(
                    username=username, full_name=username.split(".")[0].title() + " Nguyễn", role=role,
                    unit=get_unit_by_code(unit), password={PASSWORD!r},
                )
                user.email = email
            db.session.commit()
            """
        )

    # --- processes ----------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def _start_node(self, n: int, port: int) -> Process:
        command = unit_command(APP_UNIT, instance=str(port), APP_BIND=read_env_file(ENV_TEMPLATE)["APP_BIND"])
        return self._spawn(f"node{n}", command, self.environment())

    def start_scheduler(self, name: str) -> Process:
        """Another `flask scheduler run`, its database connections named kns-scheduler-<name>
        (pg_stat_activity.application_name), so lock_holder() can tell which one holds the lock."""
        url = make_url(self.database_url).update_query_dict({"application_name": f"kns-scheduler-{name}"})
        command = unit_command(SCHEDULER_UNIT)
        process = self._spawn(f"scheduler-{name}", command, self.environment(DATABASE_URL=url.render_as_string(False)))
        self.schedulers[name] = process
        return process

    def lock_holder(self) -> str | None:
        """The name of the scheduler that holds the scheduler's advisory lock, or None."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                name = connection.execute(
                    text(
                        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND ((l.classid::bigint << 32) | l.objid::bigint) = :key"
                    ),
                    {"key": SCHEDULER_LOCK_KEY},
                ).scalar()
        finally:
            engine.dispose()
        return name.removeprefix("kns-scheduler-") if name else None

    def upstreams(self) -> list[str]:
        """The node (127.0.0.1:port, or a list of them when one was tried first) that nginx
        passed each request to so far, in order."""
        log = self.folder / "nginx-access.log"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [line.rsplit(" ", 1)[-1] for line in lines]

    def site_values(self) -> dict[str, str]:
        """What the shipped site says for a real installation, and what this cluster says."""
        static = REPO / "static"
        values = {
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/letsencrypt/live/kynangso.example.gov.vn/fullchain.pem": str(self.certificate),
            "/etc/letsencrypt/live/kynangso.example.gov.vn/privkey.pem": str(self.folder / "tls" / "key.pem"),
            "server_name kynangso.example.gov.vn;": "server_name localhost;",
            "/srv/kynangso/app/static/": f"{static}/",
            "/var/www/letsencrypt": str(self.folder / "acme"),
        }
        values.update(
            {f"server 127.0.0.1:{8001 + n} ": f"server 127.0.0.1:{port} " for n, port in enumerate(self.node_ports)}
        )
        return values

    def render_site(self) -> str:
        """The shipped site with site_values() replaced; refuses if one is no longer in the file."""
        site = SITE_FILE.read_text(encoding="utf-8")
        for shipped, here in self.site_values().items():
            if shipped not in site:
                raise RuntimeError(f"{SITE_FILE.name} no longer says {shipped!r}; update Cluster.site_values")
            site = site.replace(shipped, here)
        if "kynangso.example.gov.vn" in site.replace("https://$host", ""):
            raise RuntimeError(f"{SITE_FILE.name}: an installation value is left after the replacements")
        return site

    def _start_nginx(self) -> Process:
        tls = self.folder / "tls"
        tls.mkdir()
        (self.folder / "acme").mkdir()
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                "-keyout", str(tls / "key.pem"), "-out", str(self.certificate),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        (self.folder / "site.conf").write_text(self.render_site(), encoding="utf-8")
        user = "user root root;" if os.geteuid() == 0 else ""
        # Debian's /etc/nginx/nginx.conf, reduced to what the site needs, with every path in the
        # cluster's folder.
        main = f"""
            {user}
            worker_processes 1;
            pid {self.folder}/nginx.pid;
            error_log {self.folder}/nginx-error.log warn;
            daemon off;
            events {{ worker_connections 512; }}
            http {{
                sendfile on;
                tcp_nopush on;
                types_hash_max_size 2048;
                include /etc/nginx/mime.types;
                default_type application/octet-stream;
                ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
                ssl_prefer_server_ciphers on;
                log_format upstream '$request $status $upstream_addr';
                access_log {self.folder}/nginx-access.log upstream;
                gzip on;
                client_body_temp_path {self.folder}/nginx-body;
                proxy_temp_path {self.folder}/nginx-proxy;
                fastcgi_temp_path {self.folder}/nginx-fastcgi;
                uwsgi_temp_path {self.folder}/nginx-uwsgi;
                scgi_temp_path {self.folder}/nginx-scgi;
                include {self.folder}/site.conf;
            }}
        """
        (self.folder / "nginx.conf").write_text(textwrap.dedent(main), encoding="utf-8")
        command = [NGINX, "-p", str(self.folder), "-e", str(self.folder / "nginx-error.log"), "-c"]
        check = subprocess.run([*command, str(self.folder / "nginx.conf"), "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the site:\n{check.stderr}")
        return self._spawn("nginx", [*command, str(self.folder / "nginx.conf")], os.environ.copy())

    def wait_for(self, url: str, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = None
        client = self.session()
        while time.monotonic() < deadline:
            for process in self.processes:
                if not process.alive() and process.name not in self.schedulers:
                    raise RuntimeError(f"{process.name} stopped:\n{process.output()[-3000:]}")
            try:
                response = client.get(url, timeout=5)
                if response.status_code == 200:
                    return
                last = response.status_code
            except requests.RequestException as error:
                last = error
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s ({last})")

    # --- clients ------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """A browser-like client that trusts the cluster's certificate."""
        client = requests.Session()
        client.verify = str(self.certificate)
        # Not the machine's CA bundle (REQUESTS_CA_BUNDLE would win over `verify`) nor its proxies.
        client.trust_env = False
        return client


CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')


def csrf_token(html: str) -> str:
    """The form token of the first form of a page."""
    field = CSRF_INPUT.search(html)
    value = re.search(r'\bvalue="([^"]+)"', field.group(0)) if field else None
    if not value:
        raise AssertionError("no CSRF token in the page")
    return value.group(1)


def signed_in(html: str) -> bool:
    """Whether a page is shown to someone signed in (it has the sign-out form)."""
    return 'action="/logout"' in html


def sign_in(client: requests.Session, base: str, username: str, password: str = PASSWORD, **kwargs):
    """Sign in through the real form; returns the answer to the POST (not followed)."""
    page = client.get(f"{base}/login", timeout=10, **kwargs)
    page.raise_for_status()
    # Over HTTPS a form must come with a Referer of the same origin (Flask-WTF), as a browser's.
    headers = {"Referer": f"{base}/login", **kwargs.pop("headers", {})}
    return client.post(
        f"{base}/login",
        headers=headers,
        data={"csrf_token": csrf_token(page.text), "username": username, "password": password},
        allow_redirects=False,
        timeout=10,
        **kwargs,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--check", action="store_true", help="sign in through nginx and on both nodes, then stop")
    parser.add_argument("--keep-folder", action="store_true", help="keep the logs and configuration after stopping")
    args = parser.parse_args()
    cluster = Cluster(args.admin_database_url, args.redis_url, workers=args.workers, keep_folder=args.keep_folder)
    started = time.monotonic()
    with cluster:
        print(
            f"started in {time.monotonic() - started:.1f} s (database set up after {cluster.timings['setup']:.1f} s, "
            f"nodes and nginx answering after {cluster.timings['serving']:.1f} s); folder {cluster.folder}"
        )
        print(f"  site:   {cluster.url}/login  (certificate {cluster.certificate}); {cluster.http_url} redirects")
        for n in range(cluster.nodes):
            print(f"  node {n}: {cluster.node_url(n)}")
        print(f"  database {cluster.database_name}; Redis prefix {cluster.redis_prefix}")
        print(f"  accounts: {', '.join(a[0] for a in ACCOUNTS)} (password {PASSWORD!r})")
        status = 0
        if args.check:
            with cluster.session() as client:
                answer = sign_in(client, cluster.url, ACCOUNTS[0][0])
                home = client.get(f"{cluster.url}/", timeout=10)
            ok = answer.status_code == 302 and signed_in(home.text)
            print(f"sign-in through nginx: {'ok' if ok else 'FAILED'} ({answer.status_code}, {home.status_code})")
            for process in cluster.processes:
                sizes = ", ".join(f"{size / 2**20:.0f}" for size in sorted(process.memory().values()))
                print(f"  {process.name}: resident memory per process {sizes} MB")
            status = 0 if ok else 1
        else:
            print("Ctrl-C stops it.")
            try:
                while all(p.alive() for p in cluster.processes):
                    time.sleep(1)
                print("a process stopped:", [p.name for p in cluster.processes if not p.alive()])
            except KeyboardInterrupt:
                pass
    print(f"stopped in {cluster.timings['stop']:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
