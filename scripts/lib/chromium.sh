# Shared by scripts/test (sourced, not run): make sure headless Chromium is
# there for the end-to-end test's screenshots.
#
# Uses Debian's chromium package. When it is missing, it is installed with
# apt-get if this runs as root (as CI does) and EV_SESSIONS_INSTALL_CHROMIUM
# is not 0; otherwise the reason is printed and the function returns 1 (the
# test then skips its screenshots, and says so).

chromium_path() {
    local candidate
    for candidate in "${EV_SESSIONS_CHROMIUM:-}" chromium chromium-browser; do
        [[ -n "$candidate" ]] || continue
        if command -v -- "$candidate" >/dev/null 2>&1; then
            command -v -- "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_chromium() {
    if chromium_path >/dev/null; then
        return 0
    fi
    if [[ "${EV_SESSIONS_INSTALL_CHROMIUM:-}" == 0 ]]; then
        err "chromium is not installed and EV_SESSIONS_INSTALL_CHROMIUM=0: the end-to-end test skips its screenshots."
        return 1
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        err "chromium is not installed (and this is not root with apt-get): the end-to-end test skips its screenshots."
        err "  Install it with: sudo apt-get install chromium"
        return 1
    fi
    header "Installing Debian's chromium package for the end-to-end screenshots (a minute or two)"
    local log
    log="$(mktemp)"
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >"$log" 2>&1; then
        tail -n 20 -- "$log" >&2
        rm -f -- "$log"
        err "could not install chromium: the end-to-end test skips its screenshots."
        return 1
    fi
    rm -f -- "$log"
    chromium_path >/dev/null
}
