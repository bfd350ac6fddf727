# shellcheck shell=bash
# Shared by scripts/lib/chromium.sh and scripts/lib/postgresql.sh (sourced,
# not run): install a missing Debian package for the test script, as CI does.
#
# header and err come from python.sh.

# apt_install_missing PACKAGE OPT_OUT_VARIABLE PURPOSE CONSEQUENCE
#
# Installs Debian's PACKAGE (apt-get update, then apt-get install -y) when
# this runs as root with apt-get and the variable named OPT_OUT_VARIABLE is
# not 0. Otherwise, or when the install fails, prints why and what follows
# from it (CONSEQUENCE, e.g. "the X tests are skipped") and returns 1. The
# caller has already found PACKAGE missing, and checks again afterwards that
# it is there. PURPOSE completes "Installing Debian's PACKAGE package for ...".
apt_install_missing() {
    local package="$1" opt_out="$2" purpose="$3" consequence="$4"
    if [[ "${!opt_out:-}" == 0 ]]; then
        err "$package is not installed and $opt_out=0: $consequence."
        return 1
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        err "$package is not installed (and this is not root with apt-get): $consequence."
        err "  Install it with: sudo apt-get install $package"
        return 1
    fi
    header "Installing Debian's $package package for $purpose (a minute or two)"
    local log
    log="$(mktemp)"
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package"; } >"$log" 2>&1; then
        tail -n 20 -- "$log" >&2
        rm -f -- "$log"
        err "could not install $package: $consequence."
        return 1
    fi
    rm -f -- "$log"
}
