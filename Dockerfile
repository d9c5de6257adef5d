# loyalty-bot: one image for the bot (`loyalty-bot run`, the default) and the scheduler (`loyalty-bot scheduler`).
#   docker build -t loyalty-bot .
#   docker run --env-file .env -v loyalty-data:/app/data loyalty-bot
# Settings come from the environment at run time (an env file); none is baked into the image (.dockerignore lets in
# only the packages, pyproject.toml and README.md).

# Both stages on Debian 12 (bookworm), named: its PostgreSQL client is 15, the major version of compose.yaml's
# server (the plain python:3.11-slim tag moved to Debian 13, whose client is 17).
# Build stage: install the project and its dependencies into a virtualenv (all of them ship wheels: no compiler).
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY . /src
RUN /opt/venv/bin/pip install /src

# Run stage: the virtualenv only, run by an unprivileged user (loyalty, uid 10001: numeric, so a runtime can tell
# it is not root); the SQLite database, if used, in the /app/data volume. pg_dump and pg_restore (Debian's
# PostgreSQL 15 client, without recommends) are for `loyalty-bot backup` and `restore` and the nightly backup.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --create-home --shell /usr/sbin/nologin loyalty \
    && install -d -o loyalty -g loyalty /app/data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE 8080
# The web server of the bot and of the scheduler answers GET /healthz while the process is alive (in every mode, as
# WEB_PORT is set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['WEB_PORT'], timeout=4)"]
# SIGTERM (docker stop) lets the bot stop taking updates and finish those in hand; give it time (stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["loyalty-bot", "run"]
