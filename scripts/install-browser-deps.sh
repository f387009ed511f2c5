#!/bin/sh
# Install what the browser test needs, only what is missing: Debian's
# Chromium, Node.js and npm, and playwright-core (pinned in
# tests/browser/package-lock.json) from the npm registry into
# tests/browser/node_modules. Run by 'make test' and .ci/run; safe to run
# again.
set -e
cd "$(dirname "$0")/.."
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
if [ -n "$need" ]; then
	echo "install-browser-deps: installing$need"
	if [ "$(id -u)" != 0 ]; then
		echo "install-browser-deps: need root to install$need; run: sudo apt-get install$need" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $need >/dev/null
fi
if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
	echo "install-browser-deps: installing playwright-core from the npm registry"
	(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
