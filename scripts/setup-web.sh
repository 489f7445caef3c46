#!/usr/bin/env bash
# Optional system piece for `make setup`: the pinned onnxruntime-web (npm) the web bundle copies,
# and Debian's Chromium the browser tests and the `web` bench backend drive with Playwright.
# Prints why it skips anything and never fails the setup. Never runs `playwright install`.
set -u
cd "$(dirname "$0")/.."
WEB=edgeprune/deploy/web
PIN=$(sed -n 's/.*"onnxruntime-web": *"\([^"]*\)".*/\1/p' "$WEB/package.json" | head -n1)
HAVE="$WEB/node_modules/onnxruntime-web/package.json"

# 1. onnxruntime-web, into edgeprune/deploy/web/node_modules (ignored by git; the package looks there)
if [ -f "$HAVE" ] && grep -q "\"version\": \"$PIN\"" "$HAVE"; then
    echo "setup-web: onnxruntime-web $PIN present in $WEB/node_modules"
elif ! command -v npm >/dev/null 2>&1; then
    echo "setup-web: skipped onnxruntime-web: npm is not installed (apt-get install -y npm); 'edgeprune deploy web' will fail until it is"
elif (cd "$WEB" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null); then
    echo "setup-web: onnxruntime-web $PIN installed in $WEB/node_modules"
else
    echo "setup-web: skipped onnxruntime-web: 'npm ci' failed in $WEB (offline?); 'edgeprune deploy web' will fail until it works"
fi

# 2. Chromium (Debian's), for the browser tests and the web bench backend
if [ -x /usr/bin/chromium ]; then
    echo "setup-web: chromium present ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
elif [ "$(id -u)" != "0" ]; then
    echo "setup-web: skipped chromium: /usr/bin/chromium is missing and installing it needs root;"
    echo "           run 'sudo apt-get install -y chromium'; until then browser tests skip and web bench rows are ❌"
elif ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-web: skipped chromium: no apt-get here; install Chromium at /usr/bin/chromium by hand"
else
    echo "setup-web: installing Debian's chromium (about 45 s)"
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; then
        echo "setup-web: chromium installed ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
    else
        echo "setup-web: skipped chromium: apt-get could not install it; browser tests skip and web bench rows are ❌"
    fi
fi

# 3. the Playwright Python package (the browser driver; it uses /usr/bin/chromium, no browser download)
PY="${VENV:-.venv}/bin/python"
if [ -x "$PY" ] && ! "$PY" -c "import playwright" 2>/dev/null; then
    echo "setup-web: the playwright Python package is missing: pip install -e '.[web]'"
fi
exit 0
