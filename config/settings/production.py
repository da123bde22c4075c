"""Settings for a deployment: base.py's environment variables, hardened for the internet.

Darkroom runs behind a TLS-terminating reverse proxy that sets `X-Forwarded-Proto`; gunicorn's
port must be reachable only through that proxy (in docker-compose.yml, gunicorn is reached only
through nginx, which is published on 127.0.0.1 by default). Refuses to start without SECRET_KEY
and ALLOWED_HOSTS.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, MIDDLEWARE, STORAGES, env_bool, env_list

# The placeholders that ship with the code: base.py's development key and `.env.example`'s.
_KNOWN_INSECURE_KEYS = {"dev-only-insecure-key-set-SECRET_KEY-in-production", "change-me"}

# --- Core -------------------------------------------------------------------------------------
# Forced, whatever the DEBUG variable says: a traceback page would leak settings and code.
DEBUG = False

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY or SECRET_KEY in _KNOWN_INSECURE_KEYS:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value in production, e.g. "
        '`python -c "import secrets; print(secrets.token_urlsafe(50))"`.'
    )

# base.py falls back to localhost; a deployment must name its own hosts.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the deployment's host names.")

# --- Static files -----------------------------------------------------------------------------
# base.py adds WhiteNoise only when the DEBUG variable is false at import time; DEBUG is forced
# above instead, so make sure it is there, once, right after SecurityMiddleware.
_SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
_WHITENOISE_MIDDLEWARE = "whitenoise.middleware.WhiteNoiseMiddleware"
MIDDLEWARE = [name for name in MIDDLEWARE if name != _WHITENOISE_MIDDLEWARE]
MIDDLEWARE.insert(MIDDLEWARE.index(_SECURITY_MIDDLEWARE) + 1, _WHITENOISE_MIDDLEWARE)

# Hashed file names, so static files can be cached forever. Media keeps base.py's storage
# (local folder or S3) and stays private: MEDIA_URL is deliberately left unset.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Media ------------------------------------------------------------------------------------
# Behind nginx (docker-compose.yml), local media leaves through X-Accel-Redirect to this
# `internal` location once the view has checked the viewer's rights (config/media.py).
# Empty: Django streams the files itself. Ignored when media is in S3.
MEDIA_ACCEL_REDIRECT_PREFIX = os.environ.get("DARKROOM_MEDIA_ACCEL_PREFIX", "").strip()
if MEDIA_ACCEL_REDIRECT_PREFIX and not (
    MEDIA_ACCEL_REDIRECT_PREFIX.startswith("/") and MEDIA_ACCEL_REDIRECT_PREFIX.endswith("/")
):
    raise ImproperlyConfigured(
        "DARKROOM_MEDIA_ACCEL_PREFIX must be an nginx location path that starts and ends with "
        "'/', e.g. /_protected_media/."
    )
# nginx runs as another user than the app: it must be able to read (never write) what we store.
FILE_UPLOAD_PERMISSIONS = 0o644
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755

# --- HTTPS ------------------------------------------------------------------------------------
# Trust the proxy's word that the request came over TLS. Only safe because gunicorn is not
# reachable except through the proxy, which overwrites this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True

# Start with 30 days; raise to a year (31536000) once HTTPS is known to work everywhere.
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or 30 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is the domain owner's decision, hard to undo and for the whole domain: off unless
# asked for. Hence security.W021 is silenced below; turning it on needs no silencing.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Headers ----------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging ----------------------------------------------------------------------------------
# To stdout, where the container runtime collects it.
LOGGING = {
    **LOGGING,
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stdout",
        }
    },
}
