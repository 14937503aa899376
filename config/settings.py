"""The one settings module, configured by environment variables (see README).

Embedded defaults (no DATABASE_URL, no REDIS_URL): SQLite under var/, the
in-memory channel layer and eager Celery tasks, so one process runs it all.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PATCHWORK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-embedded-default-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    # Serves the REST API docs' JavaScript from static files rather than a CDN.
    "ninja",
    "apps.accounts",
    "apps.projects",
    "apps.patches",
    "apps.series",
    "apps.mail",
    "apps.checks",
    "apps.events",
    "apps.webhooks",
    "apps.live",
    "apps.web",
    "apps.xmlrpc",
    # Site-wide management commands (cron): see config/apps.py.
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.projects.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
# PostgreSQL connections a process keeps open for reuse (psycopg's pool; 0: none, each
# request connects anew). Set it for the web processes (deploy/systemd): connecting,
# a new server process each time, costs more than most requests. Commands connect once and keep their
# connection; celery workers keep theirs for DATABASE_WORKER_CONN_MAX_AGE.
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 0, minimum=0)
# Seconds a celery worker process keeps its connection from task to task (config/celery.py;
# a connection that failed is dropped at once). Reconnecting for every task cost more
# than a mail's own queries.
DATABASE_WORKER_CONN_MAX_AGE = env_int("DATABASE_WORKER_CONN_MAX_AGE", 600, minimum=0)
if DATABASE_URL:
    # 0 (the default) closes each request's connection when it ends (back to the pool,
    # if any): under ASGI every request runs in a thread of its own, and connections
    # kept by their threads would pile up until PostgreSQL refuses more.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
        )
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # psycopg prepares a statement after this many runs on a connection, for the
        # cursors that bind parameters on the server: only the patch page's reads use
        # those (apps/patches/sql.py); Django's bind on the client and are never
        # prepared. Prepared statements live with the connection: not for a pooler in
        # transaction mode (pgbouncer < 1.21). 0: never.
        threshold = env_int("DATABASE_PREPARE_THRESHOLD", 2, minimum=0)
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = threshold or None
    if DATABASE_POOL_SIZE and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # The pool checks each connection before a request gets it, without a round trip
        # (config/postgresql/base.py): one the server dropped (restart, idle timeout) is
        # replaced.
        DATABASES["default"]["ENGINE"] = "config.postgresql"
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": 30,
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "patchwork.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "projects.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Tests (and only tests) set this: hashing a password per test user is most of a suite's time.
if env_bool("TEST_FAST_PASSWORD_HASHER", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Redis: channel layer, Celery broker ------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Consumers wait for messages with 5-second BZPOPMINs: redis-py's default
            # 5-second socket timeout would cut those reads and kill idle websockets.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds throttling counters and heartbeats: shared by every process via Redis.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pwcache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The in-memory broker is named with a host: kombu warns "No hostname was supplied" on
# every task sent (celery reaches for a producer even when tasks run eagerly).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# Webhook deliveries wait on the network, not the CPU: they have their own queue, served
# by the `webhooks` worker's thread pool (Procfile, deploy/systemd), not the prefork one.
CELERY_TASK_ROUTES = {"webhooks.deliver": {"queue": "webhooks"}}

# --- Internationalisation, static files ---------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Mail -------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Patchwork <patchwork@patchwork.example.com>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- Security (production) -----------------------------------------------------
FORCE_HTTPS_LINKS = env_bool("FORCE_HTTPS_LINKS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Peers whose X-Forwarded-For is believed (addresses or networks): by default the
# nginx of deploy/nginx/ on the same host. Anyone else is counted by its own address.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", ["127.0.0.1", "::1"])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address") from _exc
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Patchwork settings (same names and defaults as the reference manual) -----
DEFAULT_ITEMS_PER_PAGE = env_int("DEFAULT_ITEMS_PER_PAGE", 100, minimum=1)
CONFIRMATION_VALIDITY_DAYS = env_int("CONFIRMATION_VALIDITY_DAYS", 7, minimum=1)
NOTIFICATION_DELAY_MINUTES = env_int("NOTIFICATION_DELAY_MINUTES", 10, minimum=0)
NOTIFICATION_FROM_EMAIL = env_str("NOTIFICATION_FROM_EMAIL", DEFAULT_FROM_EMAIL)
ENABLE_XMLRPC = env_bool("ENABLE_XMLRPC", True)
ENABLE_REST_API = env_bool("ENABLE_REST_API", True)
REST_RESULTS_PER_PAGE = env_int("REST_RESULTS_PER_PAGE", 30, minimum=1)
MAX_REST_RESULTS_PER_PAGE = env_int("MAX_REST_RESULTS_PER_PAGE", 100, minimum=1)
COMPAT_REDIR = env_bool("COMPAT_REDIR", True)

# --- Our own settings ------------------------------------------------------------
# Absolute base URL for links built outside a request (webhooks, mail, celery tasks).
# With this token (Authorization: Bearer), /healthz shows its details to non-local clients.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN", "")
SITE_URL = (env_str("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
# Token for POST /mail/ (mail-as-a-service intake); empty disables the endpoint.
MAIL_INTAKE_TOKEN = env_str("MAIL_INTAKE_TOKEN", "")
# Largest message accepted by parsemail and POST /mail/, in bytes.
MAX_MAIL_SIZE = env_int("MAX_MAIL_SIZE", 50 * 1024 * 1024, minimum=1024)
# Worker processes parsing archives for parsearchive, reingest and public-inbox imports
# (apps/mail/parallel.py); 0 or 1 parses in the writer itself.
PARSE_WORKERS = env_int("PARSE_WORKERS", os.cpu_count() or 1, minimum=0)
# Webhooks may target loopback/private addresses (embedded default and tests).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 15, minimum=1)
WEBHOOK_LOG_RETENTION_DAYS = env_int("WEBHOOK_LOG_RETENTION_DAYS", 30, minimum=1)
# Seconds to wait before each retry of a failed delivery; the last one repeats.
_retry_delays = env_list("WEBHOOK_RETRY_DELAYS", ["5", "300", "1800", "7200", "18000", "36000"])
if not _retry_delays or not all(d.isdigit() and int(d) > 0 for d in _retry_delays):
    raise ImproperlyConfigured(
        f"WEBHOOK_RETRY_DELAYS={','.join(_retry_delays)!r} must be positive integers (seconds)"
    )
WEBHOOK_RETRY_DELAYS = [int(d) for d in _retry_delays]
# A delivery is retried this long; a webhook failing this long is disabled (3 days).
WEBHOOK_RETRY_WINDOW_SECONDS = env_int("WEBHOOK_RETRY_WINDOW_SECONDS", 3 * 24 * 3600, minimum=1)
# Deliveries in flight to one receiver host at most (all webhooks workers together);
# the rest wait their turn without holding a worker thread.
WEBHOOK_HOST_CONCURRENCY = env_int("WEBHOOK_HOST_CONCURRENCY", 8, minimum=1)
# Threads of a webhooks worker process that send an event's deliveries at once (its
# fan-out is one task, up to 100 ids: all of them in one wave, even with a hanging
# host holding its 8); 0: one after the other in the task's thread (tasks run eagerly:
# in the thread, and the transaction, that raised the event).
WEBHOOK_SENDERS = env_int("WEBHOOK_SENDERS", 0 if CELERY_TASK_ALWAYS_EAGER else 100, minimum=0)
# How long raw mail (IncomingMail) is kept; 0 keeps it forever.
MAIL_RETENTION_DAYS = env_int("MAIL_RETENTION_DAYS", 0, minimum=0)
# A reroll matched to its previous revision only by name or change-id supersedes it this
# long after the match (mail still on its way may link it better); 0: at once.
SUPERSEDE_GRACE_MINUTES = env_int("SUPERSEDE_GRACE_MINUTES", 10, minimum=0)
# Local public-inbox mirrors (kept fresh by grokmirror or git fetch) that beat's
# follow-inboxes job ingests from, comma-separated paths; empty: none.
PUBLIC_INBOX_PATHS = env_list("PUBLIC_INBOX_PATHS", [])

DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_MAIL_SIZE

# --- Periodic jobs: celery beat runs them; `manage.py cron` runs the same entries -----
CELERY_BEAT_SCHEDULE = {
    "patch-notifications": {
        "task": "patches.notifications_send",
        "schedule": 60.0 * max(NOTIFICATION_DELAY_MINUTES, 1),
    },
    "expire-confirmations": {
        "task": "projects.confirmations_expire",
        "schedule": 3600.0,
    },
    # Queue webhook deliveries whose task was lost (broker down, worker killed) or whose
    # retry is too far off to hold in a worker.
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 30.0},
    "webhooks-prune-log": {"task": "webhooks.prune_log", "schedule": 3600.0},
    # Ingest mail whose task was lost (broker down at intake, worker killed mid-ingest).
    "mail-sweep": {"task": "mail.sweep", "schedule": 60.0},
    # Delete raw mail older than MAIL_RETENTION_DAYS (a no-op while it is 0).
    "mail-prune": {"task": "mail.prune", "schedule": 3600.0},
    # Supersede the revisions matched by name whose SUPERSEDE_GRACE_MINUTES have passed.
    "series-supersede": {"task": "series.supersede_due", "schedule": 60.0},
    # Ingest what the local public-inbox mirrors (PUBLIC_INBOX_PATHS) received since.
    "follow-inboxes": {"task": "mail.follow_inboxes", "schedule": 60.0},
}
# Beat and every worker refresh a heartbeat in Redis this often; /healthz calls a
# process dead when its heartbeat is older than HEARTBEAT_MAX_AGE_SECONDS.
CELERY_BEAT_SCHEDULER = "config.heartbeat:HeartbeatScheduler"
HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_INTERVAL_SECONDS", 15, minimum=1)
HEARTBEAT_MAX_AGE_SECONDS = env_int("HEARTBEAT_MAX_AGE_SECONDS", 60, minimum=2)

# --- Logging: LOG_FORMAT=json writes one JSON object per line -------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be 'plain' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logformat.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # spyne announces the XML-RPC application at INFO on every start of every
        # management command: noise, not news.
        "spyne": {"level": "WARNING"},
        # Eager tasks (embedded default) would log "Task … succeeded" into the output of
        # the command that ran them (parsemail); workers keep the line.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else LOG_LEVEL},
    },
}

FORMS_URLFIELD_ASSUME_HTTPS = True

# --- Live pages ---------------------------------------------------------------
# A group's pages get at most one batch of changes this often (seconds), and the next
# only once they handled the last, or LIVE_STUCK_SECONDS passed (apps/live/hub.py).
LIVE_COALESCE_SECONDS = env_int("LIVE_COALESCE_MS", 100, minimum=0) / 1000
LIVE_STUCK_SECONDS = env_int("LIVE_STUCK_MS", 1000, minimum=0) / 1000
