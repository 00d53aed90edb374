# Careledger web, worker and beat image. The app runs from /app; `pip install .`
# installs only the dependencies (pyproject.toml declares no packages).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/data/media

# WeasyPrint's libraries (PDF letters), libpq for PostgreSQL, curl for the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
        libfontconfig1 libglib2.0-0 fonts-liberation libpq5 curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 careledger \
    && useradd --system --uid 10001 --gid careledger --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin careledger

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

COPY . .

# Static files are collected into the image at build time; the key is for this step only.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY=build-only-collectstatic-key-not-used-at-run-time-0123456789 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var /data/media \
    && chown -R careledger:careledger /app/var /data

USER careledger
EXPOSE 8000

CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
