#!/usr/bin/env bash
# Run the tests that do not need torch on every Python 3.12 / 3.13 that pyenv (or
# PATH) provides, each in its own .venv-<version>, and say which interpreters ran.
set -uo pipefail
cd "$(dirname "$0")/.."

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

ran=() missing=() failed=()
for version in 3.12 3.13; do
    python=$(find_python "$version")
    if [ -z "$python" ]; then
        missing+=("$version")
        continue
    fi
    venv=".venv-$version"
    echo "=== Python $version: $python"
    if [ ! -f "$venv/.installed-stamp" ] || [ pyproject.toml -nt "$venv/.installed-stamp" ] \
        || [ constraints.txt -nt "$venv/.installed-stamp" ]; then
        "$python" -m venv "$venv" \
            && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
                -c constraints.txt -e '.[gym,tensorboard,mlflow,dev]' \
            && touch "$venv/.installed-stamp" \
            || { failed+=("$version (install)"); continue; }
    fi
    if "$venv/bin/pytest" --without-torch -q -p no:cacheprovider; then
        ran+=("$("$venv/bin/python" -c 'import platform; print(platform.python_version())')")
    else
        failed+=("$version")
    fi
done

echo
echo "torch-free tests passed on: ${ran[*]:-none}"
[ ${#missing[@]} -eq 0 ] || echo "not found here (skipped): ${missing[*]}"
[ ${#failed[@]} -eq 0 ] || { echo "FAILED on: ${failed[*]}"; exit 1; }
