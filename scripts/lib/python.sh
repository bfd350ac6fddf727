# Shared by scripts/test and scripts/develop (sourced, not run): find a
# Python 3.13 interpreter and keep virtual environments in step with their
# requirements files.
#
# The sourcing script sets SCRIPT_NAME (used in messages) and REPO_ROOT.
#
# Without EV_SESSIONS_PYTHON the interpreter is the first of these that runs
# and reports version 3.13: python3.13 on PATH; $PYENV_ROOT/versions/3.13.*
# and ~/.pyenv/versions/3.13.* (newest first); /usr/local/bin/python3.13;
# /usr/bin/python3.13.
#
# After `find_python_or_exit`, PYTHON and PYTHON_VERSION are set.

# Bump to force every venv to be rebuilt when the install recipe below changes.
RECIPE_VERSION=1

export PIP_DISABLE_PIP_VERSION_CHECK=1

header() { printf '==> %s\n' "$*"; }
err() { printf '%s: %s\n' "${SCRIPT_NAME:-${0##*/}}" "$*" >&2; }

# ------------------------------------------------------------------ interpreter

# Prints the interpreter's version if running it works and it is Python 3.13.
python_313_version() {
    local out
    out="$("$1" -c 'import sys; print("%d.%d %s" % (sys.version_info[0], sys.version_info[1], sys.version.split()[0]))' 2>/dev/null)" ||
        return 1
    [[ "$out" == "3.13 "* ]] || return 1
    printf '%s\n' "${out#3.13 }"
}

find_python() {
    local candidate
    if [[ -n "${EV_SESSIONS_PYTHON:-}" ]]; then
        if python_313_version "$EV_SESSIONS_PYTHON" >/dev/null; then
            printf '%s\n' "$EV_SESSIONS_PYTHON"
            return 0
        fi
        err "EV_SESSIONS_PYTHON=$EV_SESSIONS_PYTHON is not a working Python 3.13 interpreter."
        return 1
    fi

    local -a candidates=()
    if candidate="$(command -v python3.13 2>/dev/null)"; then
        candidates+=("$candidate")
    fi
    local -a roots=()
    [[ -n "${PYENV_ROOT:-}" ]] && roots+=("$PYENV_ROOT")
    [[ -n "${HOME:-}" && "${PYENV_ROOT:-}" != "$HOME/.pyenv" ]] && roots+=("$HOME/.pyenv")
    local root version
    for root in ${roots[@]+"${roots[@]}"}; do
        [[ -d "$root/versions" ]] || continue
        while IFS= read -r version; do
            candidates+=("$root/versions/$version/bin/python3.13")
        done < <(
            # Plain releases only (3.13.N, not 3.13.Nt or 3.13-dev), newest first.
            for version in "$root"/versions/3.13.*; do
                version="${version##*/}"
                if [[ "$version" =~ ^3\.13\.[0-9]+$ ]]; then
                    printf '%s\n' "$version"
                fi
            done | sort -t. -k3,3nr
        )
    done
    candidates+=(/usr/local/bin/python3.13 /usr/bin/python3.13)

    for candidate in "${candidates[@]}"; do
        if [[ -x "$candidate" ]] && python_313_version "$candidate" >/dev/null; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done

    err "no working Python 3.13 interpreter found."
    {
        echo "  Looked for (in order): ${candidates[*]}"
        echo "  Install Python 3.13, for example one of:"
        echo "    pyenv install 3.13        # found under ~/.pyenv/versions/3.13.*"
        echo "    apt-get install python3.13 python3.13-venv   # where your distribution packages it"
        echo "  or point the script at one: EV_SESSIONS_PYTHON=/path/to/python3.13 ${SCRIPT_NAME:-${0##*/}}"
    } >&2
    return 1
}

# Sets PYTHON and PYTHON_VERSION, or exits 2 with the reason on stderr.
find_python_or_exit() {
    if ! PYTHON="$(find_python)"; then
        exit 2
    fi
    PYTHON_VERSION="$(python_313_version "$PYTHON")"
}

# ------------------------------------------------------------------ venvs

# ensure_venv DIR REQUIREMENTS CHECK_MODULE [EXTRA PIP INSTALL ARGS...]
#
# Creates DIR from REQUIREMENTS with $PYTHON, and reuses it while the
# requirements file, the interpreter and this recipe are unchanged (a stamp
# file in the venv records them) and CHECK_MODULE imports; otherwise DIR is
# rebuilt from scratch.
ensure_venv() {
    local venv="$1" requirements="$2" check_module="$3"
    shift 3
    local -a extra=("$@")
    local stamp_file="$venv/.ev_sessions_stamp"
    local stamp
    stamp="$(
        "$PYTHON" - "$requirements" "$RECIPE_VERSION" "${extra[@]+"${extra[@]}"}" <<'PY'
import hashlib, os, sys
requirements, recipe, *extra = sys.argv[1:]
with open(requirements, "rb") as file:
    digest = hashlib.sha256(file.read()).hexdigest()
print(f"requirements={os.path.basename(requirements)} sha256={digest}")
print(f"python={sys.version.split()[0]} executable={os.path.realpath(sys.executable)}")
print(f"recipe={recipe} pip_args={' '.join(extra)}")
PY
    )"

    if [[ -f "$stamp_file" && "$(cat -- "$stamp_file")" == "$stamp" ]] &&
        "$venv/bin/python" -c "import $check_module" >/dev/null 2>&1; then
        return 0
    fi

    header "Creating ${venv#"$REPO_ROOT"/} from $(basename -- "$requirements") with Python $PYTHON_VERSION (takes a minute or two)"
    rm -rf -- "$venv"
    mkdir -p -- "$(dirname -- "$venv")"
    local log="$venv.pip.log"
    if ! "$PYTHON" -m venv -- "$venv" >"$log" 2>&1; then
        cat -- "$log" >&2
        err "could not create the virtual environment $venv with $PYTHON."
        err "(On Debian/Ubuntu the venv module is in the python3.13-venv package.)"
        return 1
    fi
    if ! "$venv/bin/python" -m pip install -q --upgrade pip >"$log" 2>&1; then
        filter_pip_log "$log" >&2
        err "warning: could not upgrade pip in $venv; continuing with the bundled pip."
    fi
    if ! "$venv/bin/python" -m pip install -q ${extra[@]+"${extra[@]}"} -r "$requirements" >"$log" 2>&1; then
        filter_pip_log "$log" >&2
        err "pip install -r $(basename -- "$requirements") failed in $venv (full log: $log)."
        return 1
    fi
    # pip exits 0 on some problems it reports as errors; show those.
    grep -E '^ERROR' -- "$log" >&2 || true
    printf '%s\n' "$stamp" >"$stamp_file"
    rm -f -- "$log"
}

# pip's output minus the noise about index folders missing on this machine's mirrors.
filter_pip_log() {
    grep -v -E "^WARNING: Location '.*' is ignored" -- "$1" || true
}

# The development environment: a real Home Assistant with its web interface
# (requirements_dev.txt), used by scripts/develop and the end-to-end test.
DEV_VENV_CHECK_MODULE="homeassistant, hass_frontend, pytest, pytest_asyncio"

dev_venv_dir() { printf '%s\n' "$REPO_ROOT/.venv/dev"; }

ensure_dev_venv() {
    ensure_venv "$(dev_venv_dir)" "$REPO_ROOT/requirements_dev.txt" "$DEV_VENV_CHECK_MODULE"
}
