#!/usr/bin/env bash
# A real headless browser for the report page's test (Debian's chromium).
#
#   tools/browser.sh install   # apt-get chromium when it is missing (idempotent; needs root)
#   tools/browser.sh path      # print the browser's path (exit 1 when none is installed)
set -euo pipefail

find_browser() {
    local b
    for b in chromium chromium-browser google-chrome; do
        if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
    done
    return 1
}

case "${1:-}" in
install)
    if find_browser >/dev/null; then echo "browser: $(find_browser)"; exit 0; fi
    if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
        echo "browser: not installing chromium (not root or no apt-get); the report page's browser test will skip"
        exit 0
    fi
    log=$(mktemp)
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
            chromium >>"$log" 2>&1; then
        echo "browser: installed $(find_browser)"
    else
        echo "browser: apt-get install chromium failed (log: $log); the report page's browser test will skip"
    fi
    ;;
path) find_browser ;;
*) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
