# shellcheck shell=bash
# Shared by scripts/test (sourced, not run): make sure headless Chromium is
# there for the end-to-end test's screenshots.
#
# Uses Debian's chromium package. When it is missing, it is installed with
# apt-get if this runs as root (as CI does) and EV_SESSIONS_INSTALL_CHROMIUM
# is not 0; otherwise the reason is printed and the function returns 1 (the
# test then skips its screenshots, and says so).
#
# The sourcing script also sources apt.sh (apt_install_missing) and python.sh
# (header, err).

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
    apt_install_missing chromium EV_SESSIONS_INSTALL_CHROMIUM "the end-to-end screenshots" \
        "the end-to-end test skips its screenshots" || return 1
    chromium_path >/dev/null
}
