# Shared by scripts/demo and scripts/test. Needs Python 3.11+ and git, nothing else.
VENV="${GATEWAY_VENV:-.venv}"

step() { printf '\n==> %s\n' "$*"; }

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

# ensure_venv EXTRA: create .venv and install the project (with [EXTRA]) when pyproject.toml changed.
ensure_venv() {
  local extra="$1" stamp python
  stamp="$VENV/.installed-$extra-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -x "$VENV/bin/python" ]; then
    python="$(find_python)"
    step "creating $VENV with $python"
    "$python" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ]; then
    step "installing the gateway and its $extra dependencies"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[$extra]"
    rm -f "$VENV"/.installed-"$extra"-*
    touch "$stamp"
  fi
}

# Browser tests drive Debian's Chromium through Playwright (no browser download).
ensure_chromium() {
  export GATEWAY_TEST_CHROMIUM="${GATEWAY_TEST_CHROMIUM:-/usr/bin/chromium}"
  [ -x "$GATEWAY_TEST_CHROMIUM" ] && return 0
  step "installing Debian's chromium for the browser tests"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  [ -x "$GATEWAY_TEST_CHROMIUM" ] || { echo "FAILED: chromium is not at $GATEWAY_TEST_CHROMIUM" >&2; return 1; }
}
