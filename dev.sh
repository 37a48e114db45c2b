#!/usr/bin/env bash
# Gridline's two commands on a fresh clone:
#   ./dev.sh up     set everything up and run the centre (database, demo data, Prefect server, worker)
#   ./dev.sh test   set everything up and run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests use: PostgreSQL for the real database, LibreOffice to reopen workbooks,
# Chromium for the portal, CJK fonts and poppler for what people see.
system_packages() {
  local lean=() full=()  # lean: without recommended packages (LibreOffice's are large)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || lean+=(postgresql)
  command -v soffice >/dev/null 2>&1 || lean+=(libreoffice-calc-nogui)
  # Chromium for the portal's browser tests (Playwright drives it; it never downloads a browser).
  [ -x /usr/bin/chromium ] || full+=(chromium)
  # Chinese glyphs for Chromium's screenshots and LibreOffice's PDFs (boxes without them), and
  # poppler's pdfinfo/pdftotext, which the tests read those PDFs with.
  [ -d /usr/share/fonts/opentype/noto ] || lean+=(fonts-noto-cjk)
  command -v pdfinfo >/dev/null 2>&1 || lean+=(poppler-utils)
  [ $(( ${#lean[@]} + ${#full[@]} )) -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing Debian packages: apt-get install ${lean[*]} ${full[*]}" >&2
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
    # The house rules first: lint, then the layers contract (gridline -> flows -> tasks -> models).
    .venv/bin/ruff check .
    .venv/bin/lint-imports
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh up | ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
