# syntax=docker/dockerfile:1
# One image for every Darkroom process: web (the default command), the Celery worker and the
# scheduler (see docker-compose.yml). Configured entirely by environment variables at run time;
# no secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 1000 darkroom \
    && useradd --system --uid 1000 --gid darkroom --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin darkroom

WORKDIR /app

# Dependencies first, from the lock alone (exact versions, each file checked against its hash:
# `make lock` writes it from pyproject.toml), so a code change does not reinstall them.
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes --requirement requirements/base.txt

# The code, owned by root and read-only for the app user. Processes run from this folder, not
# from site-packages: templates/ and static/ sit beside the packages, outside the wheel. The
# editable install only registers the project (`pip show darkroom`), without a second copy.
COPY . .
RUN pip install --no-deps --editable . \
    && DJANGO_SETTINGS_MODULE=config.settings.production \
       SECRET_KEY=build-time-only-collectstatic-never-used-at-run-time \
       ALLOWED_HOSTS=build.invalid \
       DARKROOM_VAR_DIR=/tmp/build-var \
       python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var/media \
    && chown -R darkroom:darkroom /app/var

# /app/var is the only folder the app user can write. A named volume mounted on /app/var/media
# starts out with the image's ownership, so media written there needs no root.
USER 1000:1000
ENV DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/app/var/media \
    PORT=8000
EXPOSE 8000

CMD ["gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi"]
