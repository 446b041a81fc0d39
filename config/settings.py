"""Ferry settings. Everything that differs between machines comes from the environment.

Embedded default: SQLite + Huey's SQLite storage under var/. Scale-out: DATABASE_URL
(PostgreSQL via psycopg 3) and REDIS_URL (Huey on Redis, any number of consumers).
"""

import os
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FERRY_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules or os.environ.get("FERRY_TESTING") == "1"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
    # Only for local development; a production deployment sets DEBUG=0 and SECRET_KEY.
    SECRET_KEY = "ferry-insecure-development-key"

ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    # The admin site, scoped to organizations (accounts/admin_site.py).
    "accounts.admin_apps.FerryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "huey.contrib.djhuey",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "jobs",
    "business",
    "library",
    "wizard",
    "reports",
    "sync",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.OrganizationMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
]

# --- HTTPS and browser protections, all settable from the environment (README: deployment).
# Cookies are secure by default once DEBUG is off; HSTS and the HTTPS redirect are opt-in,
# because they are wrong for a server that is not (yet) reached over HTTPS.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a proxy that terminates TLS: "HTTP_X_FORWARDED_PROTO,https" (header, value).
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    _header, _, _value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip() or "https")
# Sent on every response by config.middleware; "" sends none. Pages still carry inline scripts
# and hx-on handlers (htmx evaluates them), hence 'unsafe-inline' and 'unsafe-eval' for scripts;
# everything else is this site only, and no site may frame Ferry.
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_bool("CONTENT_SECURITY_POLICY_REPORT_ONLY", False)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.context_processors.organization",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{VAR_DIR / 'ferry.sqlite3'}")}
# Persistent connections on PostgreSQL: a new connection per request costs the web process a
# connect and PostgreSQL a new backend process that reads its catalog again (measured with
# bench/bench_web.py, README: benchmarks). Each sync gunicorn worker and each worker thread
# keeps one; the health check replaces one the server dropped (a restart) before a request
# uses it. SQLite opens a file, which costs next to nothing: one connection per request there.
DATABASES["default"]["CONN_MAX_AGE"] = env_int(
    "DB_CONN_MAX_AGE", 0 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 300
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No parallel query unless asked for (DB_PARALLEL_WORKERS): PostgreSQL would answer a
    # records page's COUNT(*) over a large table with two extra worker processes, which on a
    # small server take the cores the other requests and the import need (measured on 198k
    # contacts: ~100 ms of process time per count instead of 20 ms; README: deployment). A
    # DATABASE_URL that sets ?options= itself keeps its own.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c max_parallel_workers_per_gather={env_int('DB_PARALLEL_WORKERS', 0)}"
    )
    # A server that does not answer fails a connection in seconds, not after the system's TCP
    # timeout (minutes): a request then errors instead of holding its worker, and a worker
    # stopping (its heartbeat's removal at exit, jobs/tasks.py) ends. ?connect_timeout= in
    # DATABASE_URL keeps its own.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 10))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file (not :memory:) so a real Huey consumer process can share the test database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("FERRY_TEST_DB", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))
    }
else:
    # One test database per test run, so parallel runs on one server do not collide.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get(
            "FERRY_TEST_DB", f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
        )
    }
# A consumer started by the test-suite is pointed at the test database by name.
if os.environ.get("FERRY_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["FERRY_DB_NAME"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Huey: SQLite storage under var/ by default, Redis when REDIS_URL is set.
HUEY_NAME = os.environ.get("HUEY_NAME", f"ferry-test-{os.getpid()}" if TESTING else "ferry")
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY_CONSUMER = {
    "workers": env_int("HUEY_WORKERS", 2),
    "worker_type": "thread",
    # SQLite storage is polled: keep the longest idle wait short so a queued job starts promptly.
    "initial_delay": 0.1,
    "backoff": 1.15,
    "max_delay": 1.0,
}
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": HUEY_NAME,
        "url": REDIS_URL,
        "immediate": False,
        "results": False,
        "consumer": HUEY_CONSUMER,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": HUEY_NAME,
        "filename": os.environ.get(
            "HUEY_SQLITE_PATH",
            str(VAR_DIR / (f"{HUEY_NAME}.huey.sqlite3" if TESTING else "huey.sqlite3")),
        ),
        "immediate": False,
        "results": False,
        "consumer": HUEY_CONSUMER,
    }

# Cache (API throttling counters and the like) shared by every web process: Redis when
# configured, else files under var/ so several processes on one machine still agree.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": HUEY_NAME,
        }
    }
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# whitenoise warns on every request when the folder is missing (before collectstatic has run).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded and generated files. Never served by a public URL: downloads go through jobs.views.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-public/"

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "jobs:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# E-mail: console by default; SMTP through the standard settings.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ferry@localhost")

# Ferry's own limits (each refused with a clear message).
FERRY = {
    "MAX_UPLOAD_BYTES": env_int("FERRY_MAX_UPLOAD_BYTES", 512 * 1024 * 1024),
    # Log-in throttling (accounts/throttle.py): wrong passwords per username and per client
    # address within the lockout period, and how long the lock then lasts.
    "LOGIN_MAX_FAILURES": env_int("FERRY_LOGIN_MAX_FAILURES", 5),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": env_int("FERRY_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
    "LOGIN_LOCKOUT_SECONDS": env_int("FERRY_LOGIN_LOCKOUT_SECONDS", 15 * 60),
    # Reverse proxies in front of Ferry that append to X-Forwarded-For (0: use REMOTE_ADDR).
    "PROXY_COUNT": env_int("FERRY_PROXY_COUNT", 0),
    # A table's width and its header line, checked on the first bytes before any inspection
    # (wizard/readers/limits.py): wider files cost seconds in every step that walks the columns.
    "MAX_COLUMNS": env_int("FERRY_MAX_COLUMNS", 2_000),
    "MAX_HEADER_BYTES": env_int("FERRY_MAX_HEADER_BYTES", 1024 * 1024),
    "MAX_IMPORT_ROWS": env_int("FERRY_MAX_IMPORT_ROWS", 5_000_000),
    "MAX_CONCURRENT_IMPORTS": env_int("FERRY_MAX_CONCURRENT_IMPORTS", 3),
    # Rows per import batch: fewer round trips, commits and lookups per row the larger it is,
    # and more memory. SQLite too, since the engine's per-batch work shrank: 100k contacts
    # took 3.37 s at 5000 against 3.61 s at 2000 (bench/bench_import.py, 3 rounds each), and
    # a batch holds SQLite's write lock ~0.2 s, within the web requests' busy timeout.
    "IMPORT_BATCH_SIZE": env_int("FERRY_IMPORT_BATCH_SIZE", 5000),
    "PDF_MAX_ROWS": env_int("FERRY_PDF_MAX_ROWS", 20_000),
    "JOB_RETENTION_DAYS": env_int("FERRY_JOB_RETENTION_DAYS", 30),
    # A running job whose heartbeat is older than this is taken as stalled: its worker died.
    # The stalled-jobs task runs every minute, so a dead worker's job is handled within
    # 60 + 60 s: two minutes at most.
    "JOB_STALLED_AFTER_SECONDS": env_int("FERRY_JOB_STALLED_AFTER_SECONDS", 60),
    # How often a worker process writes the heartbeat of its running jobs and of itself; well
    # under the stalled time so a busy database delaying a beat or two is not taken for a death.
    "JOB_HEARTBEAT_SECONDS": env_int("FERRY_JOB_HEARTBEAT_SECONDS", 10),
    # A job whose worker died this many times is failed rather than run again (a file that
    # kills its worker must not take every worker down in turn).
    "JOB_MAX_ATTEMPTS": env_int("FERRY_JOB_MAX_ATTEMPTS", 3),
    # Scheduled exports (reports/schedules): pause after this many failed runs in a row; e-mail
    # tries with doubling backoff; files above the size limit go out as signed, expiring links.
    "SCHEDULE_MAX_FAILURES": env_int("FERRY_SCHEDULE_MAX_FAILURES", 3),
    "SCHEDULE_DELIVERY_TRIES": env_int("FERRY_SCHEDULE_DELIVERY_TRIES", 3),
    "SCHEDULE_RETRY_BASE_SECONDS": env_int("FERRY_SCHEDULE_RETRY_BASE_SECONDS", 60),
    "SCHEDULE_ATTACHMENT_MAX_BYTES": env_int(
        "FERRY_SCHEDULE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024
    ),
    "SCHEDULE_LINK_MAX_AGE_DAYS": env_int("FERRY_SCHEDULE_LINK_MAX_AGE_DAYS", 7),
    "SCHEDULE_LATE_AFTER_SECONDS": env_int("FERRY_SCHEDULE_LATE_AFTER_SECONDS", 300),
    # The address links in e-mails point at (no request is around when a worker sends mail).
    "SITE_URL": os.environ.get("FERRY_SITE_URL", "http://localhost:8000"),
}
# Inventory sync: the only folder external SQLite files are opened from (uploads go under it
# too), and the hosts a PostgreSQL/MySQL connection URL may point at.
FERRY_SYNC_ROOT = Path(os.environ.get("FERRY_SYNC_ROOT", str(VAR_DIR / "sync")))
FERRY_SYNC_ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("FERRY_SYNC_ALLOWED_HOSTS", "127.0.0.1,localhost,::1").split(",")
    if h.strip()
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Token first: its WWW-Authenticate header turns a missing login into 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsOrganizationMember"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    # Per token (per user for the session); e.g. FERRY_API_RATE=1000/hour.
    "DEFAULT_THROTTLE_RATES": {"api": os.environ.get("FERRY_API_RATE", "600/minute")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ferry API",
    "DESCRIPTION": (
        "Imports, exports, reports, jobs and templates: the same engine and jobs as the web UI. "
        "Authenticate with a personal token (`Authorization: Bearer fry_…`, create one at "
        '/api/tokens/). Errors are JSON `{"error": message, "details": {field: [...]}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.DataJob.Status",
        "JobTypeEnum": "jobs.models.DataJob.Type",
        "OnDuplicateEnum": "library.models.DataTemplate.OnDuplicate",
        "ImportModeEnum": "library.models.DataTemplate.Mode",
        "TemplateTypeEnum": "library.models.DataTemplate.Type",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"timestamped": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "timestamped"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # run_huey adds its own handler to "huey" unless it already has one; with the root
        # handler too, every worker line would be written twice.
        "huey": {"handlers": ["console"], "propagate": False},
    },
}
