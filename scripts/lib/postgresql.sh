# shellcheck shell=bash
# Shared by scripts/test (sourced, not run): a throwaway PostgreSQL server for
# the recorder tests' PostgreSQL leg.
#
# Uses Debian's postgresql package (/usr/lib/postgresql/*/bin). When it is
# missing, it is installed with apt-get if this runs as root (as CI does) and
# EV_SESSIONS_INSTALL_POSTGRESQL is not 0; otherwise the reason is printed and
# ensure_postgresql returns 1 (the leg is then skipped, and says so).
#
# The sourcing script sets PYTHON (to find a free port) and also sources
# apt.sh (apt_install_missing) and python.sh (header, err).

# Prints the bin folder of the newest installed PostgreSQL server.
postgresql_bindir() {
    local initdb
    while IFS= read -r initdb; do
        if [[ -x "$initdb" && -x "${initdb%/initdb}/pg_ctl" && -x "${initdb%/initdb}/postgres" ]]; then
            printf '%s\n' "${initdb%/initdb}"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -t/ -k5,5Vr)
    return 1
}

ensure_postgresql() {
    if postgresql_bindir >/dev/null; then
        return 0
    fi
    apt_install_missing postgresql EV_SESSIONS_INSTALL_POSTGRESQL "the PostgreSQL recorder tests" \
        "the PostgreSQL recorder tests are skipped" || return 1
    postgresql_bindir >/dev/null
}

# postgresql_version BINDIR: prints e.g. 15.18 (from "postgres (PostgreSQL) 15.18 (Debian ...)").
postgresql_version() {
    "$1/postgres" --version | sed -n 's/^postgres (PostgreSQL) \([^ ]*\).*/\1/p'
}

# with_postgresql BINDIR COMMAND...: start a throwaway cluster (a temporary
# folder, a unix socket in it plus 127.0.0.1 on a free port, trust
# authentication, superuser "postgres"), run COMMAND with every "@PGPORT@" in
# its arguments replaced by the port, then stop the cluster and delete the
# folder -- also when COMMAND fails or the run is interrupted. Returns
# COMMAND's exit status (or 1 if the cluster could not be started).
#
# As root the server runs as the postgres user (created by Debian's package).
with_postgresql() (
    local bindir="$1"
    shift
    local -a as_user=()
    if [[ "$(id -u)" == 0 ]]; then
        if ! id postgres >/dev/null 2>&1; then
            err "running as root and there is no postgres user to run the PostgreSQL server as."
            exit 1
        fi
        as_user=(runuser -u postgres --)
    fi

    local dir port
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ev_sessions_pg.XXXXXX")"
    # shellcheck disable=SC2317 # called by the EXIT trap
    cleanup() {
        if [[ -f "$dir/data/postmaster.pid" ]]; then
            ${as_user[@]+"${as_user[@]}"} "$bindir/pg_ctl" stop -D "$dir/data" -m immediate -s >/dev/null 2>&1 || true
        fi
        rm -rf -- "$dir"
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ((${#as_user[@]} > 0)); then
        chown postgres: -- "$dir"
    fi

    if ! ${as_user[@]+"${as_user[@]}"} "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
        cat -- "$dir/initdb.log" >&2
        err "initdb failed."
        exit 1
    fi
    port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    if ! ${as_user[@]+"${as_user[@]}"} "$bindir/pg_ctl" start -w -s -D "$dir/data" -l "$dir/server.log" \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null 2>&1; then
        tail -n 20 -- "$dir/server.log" >&2
        err "could not start the PostgreSQL server."
        exit 1
    fi

    local -a command=()
    local arg
    for arg in "$@"; do
        command+=("${arg//@PGPORT@/$port}")
    done
    local rc=0
    "${command[@]}" || rc=$?
    exit "$rc"
)
