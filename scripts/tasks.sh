#!/bin/sh
# The project's tasks with nothing but Python 3.11+ and a POSIX shell; the Makefile calls this.
#   sh scripts/tasks.sh run | test | lint | typecheck | bench | screenshots | env
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

ensure_env() {
    # Reinstall when pyproject.toml is newer than the last install.
    if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || { echo "booking needs Python 3.11 or newer" >&2; exit 1; }
        [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
        echo "installing into $VENV (log: $VENV/install.log) ..."
        # The log keeps pip's chatter out of the way and is shown when something fails.
        if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip \
               && "$VENV/bin/python" -m pip install --disable-pip-version-check -e '.[dev]'; } \
               >"$VENV/install.log" 2>&1; then
            tail -n 40 "$VENV/install.log" >&2
            exit 1
        fi
        touch "$VENV/.installed"
    fi
}

task=${1:-}
[ $# -gt 0 ] && shift
case "$task" in
    env) ensure_env ;;
    run) ensure_env; exec "$VENV/bin/booking" dev "$@" ;;
    test) ensure_env; exec "$VENV/bin/pytest" "$@" ;;
    lint) ensure_env; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . ;;
    typecheck) ensure_env; exec "$VENV/bin/mypy" ;;
    bench) ensure_env; exec "$VENV/bin/python" -m bench "$@" ;;
    screenshots) ensure_env; exec "$VENV/bin/python" -m bench.screenshots ;;
    *) echo "usage: sh scripts/tasks.sh run|test|lint|typecheck|bench|screenshots|env [args]" >&2; exit 2 ;;
esac
