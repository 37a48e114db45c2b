#!/usr/bin/env bash
# Gridline's two commands on a fresh clone:
#   ./dev.sh up     set everything up and run the centre (database, demo data, Prefect server, worker)
#   ./dev.sh test   set everything up and run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests use: PostgreSQL for the real database, LibreOffice to reopen workbooks,
# Chromium for the portal.
system_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  # Chromium for the portal's browser tests (Playwright drives it; it never downloads a browser).
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "Chromium is missing: apt-get install chromium" >&2
      exit 1
    fi
  fi
}

# A virtual environment of our own, reinstalled only when pyproject.toml changes.
python_env() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=.venv/.gridline-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    touch "$stamp"
  fi
}

case "${1:-}" in
  up)
    python_env
    shift
    exec .venv/bin/gridline up "$@"
    ;;
  test)
    system_packages
    python_env
    shift
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh up | ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
