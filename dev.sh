#!/usr/bin/env bash
# Gridline's two commands on a fresh clone:
#   ./dev.sh up     set everything up and run the centre (database, demo data, Prefect server, worker)
#   ./dev.sh test   set everything up and run the whole test suite
#   ./dev.sh lock   refresh requirements.lock, the exact versions both install
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests use: PostgreSQL for the real database, LibreOffice to reopen workbooks,
# Chromium for the portal, CJK fonts and poppler for what people see. `up` wants PostgreSQL only
# (Prefect's state; without it Prefect falls back to SQLite, which locks under load).
system_packages() {
  local lean=() full=()  # lean: without recommended packages (LibreOffice's are large)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || lean+=(postgresql)
  if [ "${1:-}" != up ]; then
    command -v soffice >/dev/null 2>&1 || lean+=(libreoffice-calc-nogui)
    # Chromium for the portal's browser tests (Playwright drives it; it never downloads a browser).
    [ -x /usr/bin/chromium ] || full+=(chromium)
    # Chinese glyphs for Chromium's screenshots and LibreOffice's PDFs (boxes without them), and
    # poppler's pdfinfo/pdftotext, which the tests read those PDFs with.
    [ -d /usr/share/fonts/opentype/noto ] || lean+=(fonts-noto-cjk)
    command -v pdfinfo >/dev/null 2>&1 || lean+=(poppler-utils)
  fi
  [ $(( ${#lean[@]} + ${#full[@]} )) -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing Debian packages: apt-get install ${lean[*]} ${full[*]}" >&2
    [ "${1:-}" = up ] && return 0  # the centre runs; Prefect's state goes to SQLite instead
    exit 1
  fi
  apt-get update -qq
  export DEBIAN_FRONTEND=noninteractive
  if [ ${#lean[@]} -gt 0 ]; then
    apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
  fi
  if [ ${#full[@]} -gt 0 ]; then
    apt-get install -y -qq "${full[@]}" >/dev/null
  fi
}

# A virtual environment of our own with exactly the locked versions, the ones CI ran (Prefect's
# scheduler once broke silently on a newer SQLAlchemy); reinstalled when the lock or pyproject.toml
# changes.
python_env() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=.venv/.gridline-installed
  if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q --require-hashes -r requirements.lock
    .venv/bin/python -m pip install -q --no-deps -e .
    .venv/bin/python -m pip check
    touch "$stamp"
  fi
}

# requirements.lock afresh from pyproject.toml (with the test extra), for CPython 3.11 on x86-64
# Linux, by uv from PyPI in a throwaway environment. Run it after changing a dependency, or to
# take newer releases; then `./dev.sh test` and commit both files.
lock() {
  local tools
  tools=$(mktemp -d)
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -q uv
  "$tools/bin/uv" pip compile -q pyproject.toml --extra test --generate-hashes --upgrade \
    --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
    --custom-compile-command "./dev.sh lock" -o requirements.lock
  rm -rf "$tools"
}

case "${1:-}" in
  up)
    system_packages up
    python_env
    shift
    exec .venv/bin/gridline up "$@"
    ;;
  test)
    system_packages
    python_env
    shift
    # The house rules first: lint, then the layers contract (gridline -> flows -> tasks -> models).
    .venv/bin/ruff check .
    .venv/bin/lint-imports
    # Four test processes on two cores: most tests wait on a Prefect server, a worker or a browser.
    exec .venv/bin/python -m pytest -n "${GRIDLINE_TEST_PROCESSES:-4}" "$@"
    ;;
  lock)
    lock
    ;;
  *)
    echo "usage: ./dev.sh up | ./dev.sh test [pytest args] | ./dev.sh lock" >&2
    exit 2
    ;;
esac
