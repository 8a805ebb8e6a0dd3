# syntax=docker/dockerfile:1
#
# One image for every Laowu process; the command picks the role:
#   laowu api | laowu consume ledger | laowu streams worker | laowu migrate | laowu topics create
# Configuration comes from the environment only (DATABASE_URL, KAFKA_BOOTSTRAP, LAOWU_*): see
# laowu/settings.py and deploy/README.md. No health check here: docker-compose.yml and the Kubernetes
# manifests define one per role.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# --- console: the web console's static build (served by `laowu api` at /console/, LAOWU_CONSOLE_DIR) --------
FROM ${NODE_IMAGE} AS console
WORKDIR /console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console/ ./
RUN npm run build

# --- build: compile what has no wheel, install into a virtualenv that the runtime stage copies ----------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Compilers only in this stage, for dependencies without a wheel for the platform (on x86_64 every
# dependency has one; on arm64 faust-streaming builds from source). Unpinned: the base image pins Debian.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
# Runtime dependencies only: the [dev] extra (pytest, ruff, mypy) is not installed.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# Then the project itself (a regular, non-editable install; .dockerignore keeps the context small).
COPY . .
RUN pip install . \
 && laowu --help > /dev/null

# --- runtime ----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LAOWU_ENV=production \
    LAOWU_API_HOST=0.0.0.0 \
    LAOWU_API_PORT=8000 \
    LAOWU_HOME=/home/laowu/.laowu \
    LAOWU_CONSOLE_DIR=/opt/laowu-console

# LAOWU_ENV=production: an image started without it refuses the public development keys and short keys, rather
# than running with them; development is for a checkout (`make run`), never for an image.

# A fixed, unprivileged uid/gid so that Kubernetes' runAsNonRoot / runAsUser can match it.
RUN groupadd --system --gid 10001 laowu \
 && useradd --system --uid 10001 --gid laowu --home-dir /home/laowu --create-home --shell /usr/sbin/nologin laowu

COPY --from=build /opt/venv /opt/venv
COPY --from=console /console/dist /opt/laowu-console

USER 10001:10001
WORKDIR /home/laowu

EXPOSE 8000

# Exec form, so the process itself receives SIGTERM (directly in Kubernetes, via tini with compose's
# `init: true`); every role handles it by finishing the request or batch in hand and exiting.
CMD ["laowu", "api"]
