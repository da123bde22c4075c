"""Settings for every environment, read from environment variables.

`make run` needs none of them: the embedded defaults are SQLite, local media, kombu's
filesystem broker and the built-in WaveSpeed simulator. Every variable is listed in the README
and in `.env.example`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("DARKROOM_VAR_DIR") or BASE_DIR / "var")
# Every process (web, worker, `celery beat` with its schedule file) writes here; a fresh clone
# has no var/ yet, whichever broker is configured.
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# --- Core -------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "config.apps.AdminConfig",  # django.contrib.admin with our AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "csp",
    "accounts",
    "projects",
    "generations",
    "gallery",
    "spend",
    "elements",
    "references",
    "reports",
    "wavespeed",
    "audit",
    "hooks",
    # The JSON API (api/) on django-ninja; "ninja" serves the reference page's swagger-ui from
    # our static files (never a CDN).
    "ninja",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header, and the nonce (request.csp_nonce) pages give scripts.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication, so it knows who asked: signed-in answers are never stored.
    "config.middleware.SignedInNoStoreMiddleware",
    # The client address for the audit entries a request's services record.
    "audit.context.RequestAddressMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Static files (never media) are served by WhiteNoise from STATIC_ROOT after collectstatic;
    # in development runserver serves them from the source folders.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

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
                "accounts.theme.theme",
            ],
            # `{% load fixed_urls %}`: a URL with constant arguments, reversed once.
            "libraries": {"fixed_urls": "config.fixed_urls"},
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# The embedded default (SQLite in var/) is the only database `make run` puts a demo login in.
EMBEDDED_DATABASE = not os.environ.get("DATABASE_URL")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'darkroom.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE") or "60"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and scheduler share one file: wait for locks instead of failing at once, and
    # take the write lock at BEGIN so two writers never deadlock on an upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "generations:generate"
LOGOUT_REDIRECT_URL = "login"
# django-axes watches every authenticate() (it needs the request) and refuses a locked-out
# one; ModelBackend checks the password and refuses inactive (deactivated) people.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ModelBackend",
]
# Lock out a username from one address after this many failures, for this long; a success
# resets the count.
AXES_FAILURE_LIMIT = int(os.environ.get("DARKROOM_LOGIN_FAILURE_LIMIT") or 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("DARKROOM_LOGIN_LOCKOUT_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Axes has one limit for every combination it counts by; accounts/throttling.py adds wider ones
# over the same records: failures from one address across usernames, and for one username
# across addresses (not counted from an address the account logged in from lately).
AXES_HANDLER = "accounts.throttling.LoginThrottle"
DARKROOM_LOGIN_ADDRESS_FAILURE_LIMIT = int(
    os.environ.get("DARKROOM_LOGIN_ADDRESS_FAILURE_LIMIT") or 20
)
DARKROOM_LOGIN_USERNAME_FAILURE_LIMIT = int(
    os.environ.get("DARKROOM_LOGIN_USERNAME_FAILURE_LIMIT") or 10
)
# The JSON API's limits per personal access token, per minute: every request, and creates.
DARKROOM_API_REQUESTS_PER_MINUTE = int(os.environ.get("DARKROOM_API_REQUESTS_PER_MINUTE") or 120)
DARKROOM_API_GENERATIONS_PER_MINUTE = int(
    os.environ.get("DARKROOM_API_GENERATIONS_PER_MINUTE") or 10
)
# The window those limits count over, in seconds: a minute (tests shorten it to wait one out).
DARKROOM_API_RATE_WINDOW = 60
# Password-reset mails an hour: from one address, and to one account (accounts/throttling.py).
DARKROOM_PASSWORD_RESETS_PER_ADDRESS = int(
    os.environ.get("DARKROOM_PASSWORD_RESETS_PER_ADDRESS") or 5
)
DARKROOM_PASSWORD_RESETS_PER_ACCOUNT = int(
    os.environ.get("DARKROOM_PASSWORD_RESETS_PER_ACCOUNT") or 3
)
# Behind reverse proxies, the client address is read from X-Forwarded-For (config/addresses.py).
AXES_CLIENT_IP_CALLABLE = "config.addresses.client_ip"
DARKROOM_TRUSTED_PROXY_COUNT = int(os.environ.get("DARKROOM_TRUSTED_PROXY_COUNT") or 0)
# New people join by an invitation link (staff create them); open sign-up is off by default.
DARKROOM_OPEN_SIGNUP = env_bool("DARKROOM_OPEN_SIGNUP", False)
# While sign-up is closed, a project's invitation link creates an account for a signed-out
# visitor only if staff made it; true lets every project owner's link do so.
DARKROOM_PROJECT_LINKS_CREATE_ACCOUNTS = env_bool("DARKROOM_PROJECT_LINKS_CREATE_ACCOUNTS", False)
DARKROOM_INVITATION_DAYS = int(os.environ.get("DARKROOM_INVITATION_DAYS") or 7)
# Deleted images stay restorable in the trash this long; then a periodic task removes them.
DARKROOM_TRASH_DAYS = int(os.environ.get("DARKROOM_TRASH_DAYS") or 30)
# "Create on Kling" (elements/creation.py) is paid; one person may ask for this many an hour.
DARKROOM_ELEMENT_CREATIONS_PER_HOUR = int(
    os.environ.get("DARKROOM_ELEMENT_CREATIONS_PER_HOUR") or 10
)
# An open gallery asks this often for images newer than its first tile (while the tab is seen).
DARKROOM_GALLERY_POLL_SECONDS = int(os.environ.get("DARKROOM_GALLERY_POLL_SECONDS") or 10)

# --- Email ------------------------------------------------------------------------------------
# Password reset links. Printed on the console unless an SMTP server is configured.
EMAIL_HOST = os.environ.get("EMAIL_HOST") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "Darkroom <darkroom@localhost>"

# --- I18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE") or "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Media lives outside every public folder: MEDIA_URL is deliberately unset, and files are
# streamed by views that check the viewer's rights first.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}


def s3_media_storage() -> dict[str, Any]:
    """django-storages' S3 backend from the AWS_ variables: private objects, signed URLs. The
    credentials reach boto3 from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": "private",
            "querystring_auth": True,
            # Left to botocore, signed URLs use Signature Version 2 on a custom endpoint and in
            # us-east-1: AWS refuses it for buckets made since 2020, as do some S3-compatible
            # stores (tests/s3_server.py accepts only version 4).
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }


if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    STORAGES["default"] = s3_media_storage()
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024


def s3_media_origins(bucket: str, endpoint_url: str | None, region: str | None) -> list[str]:
    """Where the browser fetches media from when the storage is S3: the media views redirect to
    signed URLs there, so the Content-Security-Policy's img-src must allow it. django-storages
    signs path-style URLs on a custom endpoint, virtual-hosted ones on AWS (the regional name
    too, in case botocore signs for the region); tests compare with the storage's own URLs."""
    if not bucket:
        return []
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        return [f"{parts.scheme}://{parts.netloc}"]
    origins = [f"https://{bucket}.s3.amazonaws.com"]
    if region:
        origins.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return origins


MEDIA_ORIGINS = s3_media_origins(
    os.environ.get("AWS_STORAGE_BUCKET_NAME") or "",
    os.environ.get("AWS_S3_ENDPOINT_URL") or None,
    os.environ.get("AWS_S3_REGION_NAME") or None,
)

# --- Content-Security-Policy (django-csp) -----------------------------------------------------
# Everything from our own origin, nothing inline: no inline handlers, no inline <style> or style
# attributes, no eval. A <script> that is not a file of ours needs the page's nonce
# (`nonce="{{ request.csp_nonce }}"`); the nonce appears in the header only on pages that use
# it. Images may also be data: URLs (the favicon, BlurHash placeholders), blob: URLs (pictures
# made in the page) and the S3 origin that media redirects to.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *MEDIA_ORIGINS],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Permissions-Policy (django-permissions-policy) -------------------------------------------
# Powerful browser features Darkroom never uses, off for its pages and anything they embed; and
# no interest-based advertising topics.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "camera": [],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
    "interest-cohort": [],
}

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL") or ""
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport needs no server: `make run` works on a bare machine.
    (BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    # config/fs_broker.py makes its writes atomic.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "polling_interval": 0.1,
    }
else:
    # Redis hands an unacknowledged message to another worker after this long. A task waiting
    # for its countdown is unacknowledged, and countdowns are capped at 10 minutes
    # (wavespeed/timing.py), so nothing is redelivered while it merely waits.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30 * 60}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# One message reserved per free slot: a worker that dies takes fewer messages with it (they are
# re-queued by the sweeper), and a slow task does not sit on work another slot could do.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Submits (and uploads before them) wait on WaveSpeed for up to WAVESPEED_SUBMIT_TIMEOUT: they
# have a queue and a worker of their own (`--queues submit --pool threads`), so slow submits
# never hold the slots that follow and sweep need. Saving outputs (download, verify,
# thumbnails, placeholder) is CPU-bound, a few hundred ms for a 4k image: it has a queue and
# processes of their own too (`--queues images`, IMAGE_CONCURRENCY), so a burst of saves never
# delays a submit or a poll. A save stores and shows the originals; their thumbnails and
# placeholders (the decode and encodes, ~80 ms of CPU for a 1k PNG) are made afterwards by tasks
# on a queue of their own, `thumbnails`, consumed by a worker that runs at a lower CPU priority
# (`nice`, THUMBNAIL_CONCURRENCY processes): a burst of saves takes the CPU first and is never
# queued behind thumbnails, which use what is left. Everything else uses the default queue.
# Every worker command (the Procfile, docker-compose.yml) names its queues: a worker started
# without --queues takes only the default one.
SUBMIT_QUEUE = "submit"
IMAGES_QUEUE = "images"
THUMBNAILS_QUEUE = "thumbnails"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "wavespeed.tasks.submit_job": {"queue": SUBMIT_QUEUE},
    "wavespeed.tasks.submit_due": {"queue": SUBMIT_QUEUE},
    "wavespeed.tasks.reconcile_job": {"queue": SUBMIT_QUEUE},
    "generations.tasks.save_generation_outputs": {"queue": IMAGES_QUEUE},
    "generations.tasks.make_image_renditions": {"queue": THUMBNAILS_QUEUE},
}
# Publishing from a web request must not hang on a broker that is down: a few quick tries,
# then the step is left to the sweeper (its `next_step_at` is already recorded).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Reuse the worker's database connections instead of reconnecting around every task (Celery's
# default): ~1,400 fewer PostgreSQL connections for 200 generations in bench/jobs_in_flight.py.
CELERY_DB_REUSE_MAX = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
SWEEP_INTERVAL_SECONDS = env_float("DARKROOM_SWEEP_INTERVAL", 30.0)
CELERY_BEAT_SCHEDULE = {
    # Every provider job (wavespeed/runner.py) whose next step is late, of every kind.
    "resume-provider-jobs": {
        "task": "wavespeed.tasks.sweep_jobs",
        "schedule": SWEEP_INTERVAL_SECONDS,
    },
    "purge-trash": {
        "task": "gallery.tasks.purge_trash",
        "schedule": env_float("DARKROOM_PURGE_INTERVAL", 3600.0),
    },
    # Expired share links stopped working at their expiry; this records it (audit trail).
    "record-expired-share-links": {
        "task": "gallery.tasks.expire_share_links",
        "schedule": env_float("DARKROOM_SHARE_EXPIRY_INTERVAL", 600.0),
    },
    # Notifications to a team's tools whose task was lost (a broker restart, a killed worker).
    "resume-notification-deliveries": {
        "task": "hooks.tasks.sweep_deliveries",
        "schedule": SWEEP_INTERVAL_SECONDS,
    },
}

# --- Cache ------------------------------------------------------------------------------------
# Counters that must hold across processes live here (the password-reset limits): a local-memory
# cache is one per process, so several web workers would each allow the full limit, and a
# restart would forget it. Redis when it is configured; otherwise a table in the database
# (SQLite or PostgreSQL alike, no server), made by a migration (accounts 0004).
CACHE_TABLE = "darkroom_cache"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "darkroom",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
        }
    }

# --- WaveSpeed --------------------------------------------------------------------------------
# Without a key, Darkroom talks to the built-in simulator; the client code is the same either
# way. `make run` starts the simulator (the Procfile passes it WAVESPEED_SIMULATOR_URL, with
# this default) when WAVESPEED_BASE_URL is its URL; `manage.py describe_provider` tells.
SIMULATOR_URL = os.environ.get("WAVESPEED_SIMULATOR_URL") or "http://127.0.0.1:8765"
WAVESPEED_PUBLIC_URL = "https://api.wavespeed.ai"
WAVESPEED_API_KEY = os.environ.get("WAVESPEED_API_KEY", "")
WAVESPEED_USES_SIMULATOR = not WAVESPEED_API_KEY
WAVESPEED_BASE_URL = os.environ.get("WAVESPEED_BASE_URL") or (
    SIMULATOR_URL if WAVESPEED_USES_SIMULATOR else WAVESPEED_PUBLIC_URL
)
if WAVESPEED_USES_SIMULATOR:
    WAVESPEED_API_KEY = "simulator-key"
# Hosts that output files may be downloaded from (suffix match, https only); the API's own host
# is always allowed, which is how the simulator serves its outputs.
WAVESPEED_OUTPUT_HOSTS = env_list("WAVESPEED_OUTPUT_HOSTS", "wavespeed.ai,cloudfront.net")
WAVESPEED_CONNECT_TIMEOUT = env_float("WAVESPEED_CONNECT_TIMEOUT", 10.0)
WAVESPEED_READ_TIMEOUT = env_float("WAVESPEED_READ_TIMEOUT", 30.0)
WAVESPEED_SUBMIT_TIMEOUT = env_float("WAVESPEED_SUBMIT_TIMEOUT", 60.0)
WAVESPEED_UPLOAD_TIMEOUT = env_float("WAVESPEED_UPLOAD_TIMEOUT", 120.0)
# WaveSpeed deletes uploads after 7 days; an uploaded reference is reused for a day less, so a
# generation never points at a file that is about to disappear.
WAVESPEED_UPLOAD_REUSE_DAYS = env_float("WAVESPEED_UPLOAD_REUSE_DAYS", 6.0)
# How many tasks the WaveSpeed account runs at once (its level: 2 for a new account, 300 for
# Silver; docs/wavespeed.md). Darkroom never throttles itself by it: the studio only says it
# when a run waits in WaveSpeed's queue.
WAVESPEED_TASKS_AT_ONCE = int(os.environ.get("WAVESPEED_TASKS_AT_ONCE") or 2)

# Webhooks: with DARKROOM_PUBLIC_URL (the address WaveSpeed can reach this site at, e.g.
# https://darkroom.example.com; `make run` sets the local one, which the simulator reaches),
# every generation's submit asks WaveSpeed to POST the finished prediction to
# <DARKROOM_PUBLIC_URL>/hooks/wavespeed/. Without it nothing changes: results are polled.
DARKROOM_PUBLIC_URL = os.environ.get("DARKROOM_PUBLIC_URL", "").strip()
if (
    not DARKROOM_PUBLIC_URL
    and env_bool("DARKROOM_MAKE_RUN", False)
    and WAVESPEED_BASE_URL == SIMULATOR_URL
):
    # `make run` (which sets DARKROOM_MAKE_RUN, HOST and DARKROOM_WEB_PORT) with its simulator:
    # the simulator reaches the app at its local address, so webhooks are on there too. Under
    # `honcho start` PORT is each process's own (the submitter's is not the web's), so the web's
    # port comes as DARKROOM_WEB_PORT; PORT is for a process started by hand.
    _host = os.environ.get("HOST") or "127.0.0.1"
    _host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(_host, _host)
    if ":" in _host and not _host.startswith("["):
        _host = f"[{_host}]"
    _port = os.environ.get("DARKROOM_WEB_PORT") or os.environ.get("PORT") or 8000
    DARKROOM_PUBLIC_URL = f"http://{_host}:{_port}"
# The signing secret; empty: fetched from WaveSpeed (GET /api/v3/webhook/secret) once per
# process. Deliveries whose timestamp is further than this from our clock are refused.
# Notifications to a team's tools (the hooks app) reach public addresses only; true lets every
# endpoint reach private and loopback ones too (a receiver on this machine or your network).
# Staff can allow one endpoint in the admin instead.
DARKROOM_HOOKS_ALLOW_PRIVATE = env_bool("DARKROOM_HOOKS_ALLOW_PRIVATE", False)
WAVESPEED_WEBHOOK_SECRET = os.environ.get("WAVESPEED_WEBHOOK_SECRET", "")
WAVESPEED_WEBHOOK_TOLERANCE_SECONDS = env_float("WAVESPEED_WEBHOOK_TOLERANCE", 300.0)
# With webhooks on, polling is the fallback: the first poll waits until the run should be
# over (DARKROOM_EXPECTED_RUN_SECONDS) plus DARKROOM_WEBHOOK_GRACE_SECONDS, and later polls are
# never closer together than the grace.
EXPECTED_RUN_SECONDS = env_float("DARKROOM_EXPECTED_RUN_SECONDS", 20.0)
WEBHOOK_GRACE_SECONDS = env_float("DARKROOM_WEBHOOK_GRACE_SECONDS", 10.0)

# --- Generation pipeline ----------------------------------------------------------------------
# Polling a prediction: first look after POLL_MIN_SECONDS, then each wait grows by POLL_FACTOR
# up to POLL_MAX_SECONDS, with +/-20 % jitter. Nothing sleeps: each poll is a task with a
# countdown, so a worker slot is free while the provider works.
POLL_MIN_SECONDS = env_float("DARKROOM_POLL_MIN", 1.0)
POLL_FACTOR = env_float("DARKROOM_POLL_FACTOR", 1.5)
POLL_MAX_SECONDS = env_float("DARKROOM_POLL_MAX", 15.0)
# Batched polling (wavespeed/runner.py, `poll_due`): one task per POLL_TICK_SECONDS (a beat
# entry) claims every followed job whose poll is due, asks WaveSpeed about all of them at once
# through the pooled client (at most POLL_CONCURRENCY requests in flight, POLL_BATCH_LIMIT jobs a
# tick; a 429 stops the tick's remaining requests) and records the next polls in one UPDATE,
# instead of one Celery task per poll. Off: one `follow_job` task per poll.
POLL_BATCH = env_bool("DARKROOM_POLL_BATCH", True)
POLL_TICK_SECONDS = env_float("DARKROOM_POLL_TICK", 1.0)
POLL_CONCURRENCY = int(env_float("DARKROOM_POLL_CONCURRENCY", 16))
POLL_BATCH_LIMIT = int(env_float("DARKROOM_POLL_BATCH_LIMIT", 500))
# Batched submits (`submit_due`): a new generation without references queues no task of its own;
# one task sends every such generation due, SUBMIT_BATCH requests at a time, concurrently. At
# most the client's kept-alive connections (10, wavespeed/client.py), so a batch reuses them
# instead of opening new ones each time.
SUBMIT_BATCH = int(env_float("DARKROOM_SUBMIT_BATCH", 8))
# A tick not started within its interval is dropped, so a busy worker never finds a pile.
CELERY_BEAT_SCHEDULE["poll-due-jobs"] = {
    "task": "wavespeed.tasks.poll_due_jobs",
    "schedule": POLL_TICK_SECONDS,
    "options": {"expires": POLL_TICK_SECONDS},
}
# Once the provider says `processing`, waits are capped at a fifth of the time it has worked so
# far (never under POLL_PROCESSING_MIN_SECONDS), so a finished run is noticed soon after.
POLL_PROCESSING_MIN_SECONDS = env_float("DARKROOM_POLL_PROCESSING_MIN", 2.0)
POLL_PROCESSING_FRACTION = 0.2
# A generation the provider has not finished after this long is failed (outputs are deleted
# by WaveSpeed after 7 days, so waiting longer than a day helps no one).
FOLLOW_GIVE_UP_SECONDS = env_float("DARKROOM_FOLLOW_GIVE_UP", 24 * 60 * 60)
# A generation whose next step should have run this long ago is resumed by the sweeper.
STALE_AFTER_SECONDS = env_float("DARKROOM_STALE_AFTER", 60.0)
# A submit WaveSpeed did not take (no connection, DNS, 429, 503: nothing was created) is tried
# again with backoff up to SUBMIT_RETRY_CAP_SECONDS apart, for this long after the first
# failure; the person sees "waiting for WaveSpeed" and the budget hold stays.
SUBMIT_RETRY_WINDOW_SECONDS = env_float("DARKROOM_SUBMIT_RETRY_WINDOW", 30 * 60.0)
SUBMIT_RETRY_CAP_SECONDS = env_float("DARKROOM_SUBMIT_RETRY_CAP", 60.0)
# Output URLs live 7 days. A download that fails for a passing reason (no connection, timeout,
# 5xx) is retried with backoff growing to SAVE_RETRY_CAP_SECONDS for as long as the URL lives;
# only two "gone" answers in a row (403/404/410) end a save.
OUTPUT_RETENTION_SECONDS = 7 * 24 * 60 * 60.0
SAVE_RETRY_CAP_SECONDS = env_float("DARKROOM_SAVE_RETRY_CAP", 60 * 60.0)
OUTPUT_MAX_BYTES = int(os.environ.get("DARKROOM_OUTPUT_MAX_BYTES") or 200 * 1024 * 1024)
# `make run` creates this login once, on a new embedded database (manage.py ensure_demo_user).
DEMO_USERNAME = "demo"
DEMO_PASSWORD = os.environ.get("DARKROOM_DEMO_PASSWORD") or "darkroom-demo"

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"quiet_ticks": {"()": "config.logs.QuietTicks"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL") or "INFO"},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # No "sending", "received", "succeeded" lines for the once-a-second poll tick.
        **{
            name: {"filters": ["quiet_ticks"]}
            for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace")
        },
    },
}
