# fastqueue's application image: one image, three commands (as in the quickstart):
#
#   docker build -t fastqueue .
#   docker run --rm -e FASTQUEUE_DATABASE_URL=postgresql+psycopg2://... fastqueue db-migrate
#   docker run -e FASTQUEUE_DATABASE_URL=... fastqueue worker
#   docker run -e FASTQUEUE_DATABASE_URL=... -p 8000:8000 fastqueue            # server (default)
#
# Stage 1 builds the wheel, which carries the SQL (db/migrations, db/functions, db/views -> fastqueue/db/, see the
# package-data in pyproject.toml). Stage 2 installs that wheel alone into a virtualenv without pip,
# so the image holds the interpreter, the dependencies and fastqueue, and no build tools.

FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
# Exactly what the wheel is built from: the project metadata (readme included, setuptools reads
# it), the package and the SQL it force-includes. Nothing else reaches the image.
COPY pyproject.toml README.md ./
COPY app/ app/
COPY db/schema_migrations.sql db/
COPY db/migrations/ db/migrations/
COPY db/functions/ db/functions/
COPY db/views/ db/views/
COPY db/router/ db/router/
RUN python -m pip wheel --no-deps --wheel-dir /wheels .


FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH=/opt/fastqueue/bin:$PATH \
    FASTQUEUE_SERVER_HOST=0.0.0.0 \
    FASTQUEUE_SERVER_PORT=8000

# A fixed numeric uid/gid, so that runAsNonRoot-style checks can verify it without /etc/passwd.
RUN groupadd --system --gid 10001 fastqueue \
    && useradd --system --uid 10001 --gid fastqueue --home-dir /home/fastqueue --create-home \
        --shell /usr/sbin/nologin fastqueue

# The base image's pip installs into the venv (pip --python), so the venv needs no pip of its own.
# /usr/local/bin/python on purpose: once the venv exists, `python` on PATH is the venv's, pip-less.
# Dependencies come from PyPI as wheels (psycopg[binary], uvloop, ...): no compiler needed.
COPY --from=build /wheels/ /tmp/wheels/
RUN /usr/local/bin/python -m venv --without-pip /opt/fastqueue \
    && /usr/local/bin/python -m pip --python /opt/fastqueue/bin/python install /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && fastqueue --help >/dev/null

COPY docker/healthcheck.py /opt/fastqueue/healthcheck.py

USER 10001:10001
WORKDIR /home/fastqueue

EXPOSE 8000

# Only a `server` container answers /health; the script reports db-migrate and worker containers
# healthy without asking (see docker/healthcheck.py).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/fastqueue/healthcheck.py"]

ENTRYPOINT ["fastqueue"]
CMD ["server"]
