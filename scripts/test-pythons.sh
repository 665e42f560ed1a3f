#!/usr/bin/env bash
# Run the tests that do not need torch on every Python 3.12 / 3.13 that pyenv (or
# PATH) provides, each in its own .venv-<version>, and say which interpreters ran.
#
#   scripts/test-pythons.sh            install what is missing, then test
#   scripts/test-pythons.sh --install  only install (.ci/run does this beside make test's
#                                      own install, so the installs overlap)
#
# The venvs are installed side by side (pip is single-threaded), and the tests run
# side by side too, one interpreter per core. Tests whose subject does not depend on
# the interpreter run once, on the main Python, in `make test`: the benchmark smoke
# runs, the browser, the connection flood, the HTTP fuzzing and the kill-during-save
# drill.
set -uo pipefail
cd "$(dirname "$0")/.."

ONCE=(
    --ignore=tests/benchmarks
    --ignore=tests/console/test_dashboard_browser.py
    --ignore=tests/console/test_flood.py
    --ignore=tests/console/test_web_api_fuzz.py
    --ignore=tests/test_state_persistence_kill.py
)

find_python() {  # $1 = "3.12"; prints the path of a matching interpreter, if any
    local root candidate
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root)
        for candidate in $(ls -d "$root/versions/$1".* 2>/dev/null | sort -V -r); do
            [ -x "$candidate/bin/python" ] && { echo "$candidate/bin/python"; return; }
        done
    fi
    command -v "python$1" 2>/dev/null || true
}

installed() {  # $1 = venv; true when its install is newer than what it installs
    [ -f "$1/.installed-stamp" ] && [ ! pyproject.toml -nt "$1/.installed-stamp" ] \
        && [ ! constraints.txt -nt "$1/.installed-stamp" ]
}

install() {  # $1 = python, $2 = venv
    rm -rf "$2"
    "$1" -m venv "$2" \
        && "$2/bin/python" -m pip install --quiet --disable-pip-version-check \
            -c constraints.txt -e '.[gym,tensorboard,mlflow,dev]' \
        && touch "$2/.installed-stamp"
}

versions=() pythons=() missing=() failed=()
for version in 3.12 3.13; do
    python=$(find_python "$version")
    if [ -z "$python" ]; then
        missing+=("$version")
    else
        versions+=("$version")
        pythons+=("$python")
    fi
done

pids=()
for i in "${!versions[@]}"; do
    venv=".venv-${versions[$i]}"
    if installed "$venv"; then
        pids+=("")
    else
        echo "=== installing Python ${versions[$i]} (${pythons[$i]}) into $venv"
        install "${pythons[$i]}" "$venv" > "$venv.install.log" 2>&1 &
        pids+=("$!")
    fi
done
for i in "${!versions[@]}"; do
    version=${versions[$i]}
    if [ -n "${pids[$i]}" ] && ! wait "${pids[$i]}"; then
        cat ".venv-$version.install.log"
        failed+=("$version (install)")
    fi
    rm -f ".venv-$version.install.log"
done

ran=()
if [ "${1:-}" != "--install" ]; then
    # The interpreters' runs go side by side (each is mostly one busy core), each
    # into its own log, printed whole when it ends.
    run_pids=() run_versions=()
    for version in "${versions[@]}"; do
        installed ".venv-$version" || continue
        ".venv-$version/bin/pytest" --without-torch -q -p no:cacheprovider "${ONCE[@]}" \
            > ".venv-$version.test.log" 2>&1 &
        run_pids+=("$!")
        run_versions+=("$version")
    done
    for i in "${!run_versions[@]}"; do
        version=${run_versions[$i]}
        wait "${run_pids[$i]}"
        status=$?
        echo "=== Python $version"
        cat ".venv-$version.test.log"
        rm -f ".venv-$version.test.log"
        if [ "$status" -eq 0 ]; then
            ran+=("$(".venv-$version/bin/python" -c 'import platform; print(platform.python_version())')")
        else
            failed+=("$version")
        fi
    done
    echo
    echo "torch-free tests passed on: ${ran[*]:-none}"
fi
[ ${#missing[@]} -eq 0 ] || echo "not found here (skipped): ${missing[*]}"
[ ${#failed[@]} -eq 0 ] || { echo "FAILED on: ${failed[*]}"; exit 1; }
