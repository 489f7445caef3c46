#!/usr/bin/env bash
# Optional system piece for `make setup`: the pinned onnxruntime-web (npm) the web bundle copies,
# and Debian's Chromium the browser tests and the `web` bench backend drive with Playwright.
# Prints why it skips anything and never fails the setup, unless EDGEPRUNE_REQUIRE names `browser`
# (CI: .ci/run): then a piece it cannot install fails the setup (exit 1) with the same reason.
# Never runs `playwright install`. EDGEPRUNE_CHROMIUM names another browser (as for edgeprune itself).
set -u
cd "$(dirname "$0")/.."
WEB=edgeprune/deploy/web
PIN=$(sed -n 's/.*"onnxruntime-web": *"\([^"]*\)".*/\1/p' "$WEB/package.json" | head -n1)
HAVE="$WEB/node_modules/onnxruntime-web/package.json"
CHROMIUM=${EDGEPRUNE_CHROMIUM:-/usr/bin/chromium}
REQUIRED=0
REQ=${EDGEPRUNE_REQUIRE:-}
case ",${REQ// /}," in *,browser,*) REQUIRED=1 ;; esac
MISSING=()
skipped() {  # skipped WHAT REASON...: say why; remember it when the browser pieces are required
    local what=$1
    shift
    echo "setup-web: skipped $what: $*"
    MISSING+=("$what")
}

# 1. onnxruntime-web, into edgeprune/deploy/web/node_modules (ignored by git; the package looks there)
if [ -f "$HAVE" ] && grep -q "\"version\": \"$PIN\"" "$HAVE"; then
    echo "setup-web: onnxruntime-web $PIN present in $WEB/node_modules"
elif ! command -v npm >/dev/null 2>&1; then
    skipped onnxruntime-web "npm is not installed (apt-get install -y npm); 'edgeprune deploy web' will fail until it is"
elif (cd "$WEB" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null); then
    echo "setup-web: onnxruntime-web $PIN installed in $WEB/node_modules"
else
    skipped onnxruntime-web "'npm ci' failed in $WEB (offline?); 'edgeprune deploy web' will fail until it works"
fi

# 2. Chromium (Debian's), for the browser tests and the web bench backend
if [ -x "$CHROMIUM" ]; then
    echo "setup-web: chromium present ($("$CHROMIUM" --version 2>/dev/null | head -n1))"
elif [ "$CHROMIUM" != /usr/bin/chromium ]; then
    skipped chromium "EDGEPRUNE_CHROMIUM=$CHROMIUM is not an executable; unset it to use Debian's /usr/bin/chromium"
elif [ "$(id -u)" != "0" ]; then
    skipped chromium "/usr/bin/chromium is missing and installing it needs root;"
    echo "           run 'sudo apt-get install -y chromium'; until then browser tests skip and web bench rows are ❌"
elif ! command -v apt-get >/dev/null 2>&1; then
    skipped chromium "no apt-get here; install Chromium at /usr/bin/chromium by hand"
else
    echo "setup-web: installing Debian's chromium (about 45 s)"
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; then
        echo "setup-web: chromium installed ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
    else
        skipped chromium "apt-get could not install it; browser tests skip and web bench rows are ❌"
    fi
fi

# 3. the Playwright Python package (the browser driver; it uses /usr/bin/chromium, no browser download)
PY="${VENV:-.venv}/bin/python"
if [ ! -x "$PY" ]; then
    skipped playwright "no Python at $PY to check for the playwright package (set VENV)"
elif ! "$PY" -c "import playwright" 2>/dev/null; then
    skipped playwright "the playwright Python package is missing: pip install -e '.[web]'"
fi

if [ ${#MISSING[@]} -gt 0 ] && [ "$REQUIRED" = 1 ]; then
    echo "setup-web: FAILED: EDGEPRUNE_REQUIRE=$EDGEPRUNE_REQUIRE requires the browser pieces, and ${MISSING[*]} could not be set up (reasons above)" >&2
    exit 1
fi
exit 0
