#!/usr/bin/env bash
# Installs what the README's two commands need and is not there yet: Debian's PostgreSQL 15 with
# pg_cron and pgTAP (plus pg_prove), and the Python packages in .venv. Safe to run again: it only
# installs what is missing, and reinstalls Python packages only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(python3-venv postgresql-15 postgresql-contrib postgresql-15-cron postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl chromium chromium-driver)
missing=()
for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "fastqueue needs these Debian packages: ${missing[*]}" >&2
        echo "install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=".venv/.installed-$(sha256sum < pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing Python packages into .venv"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[test,migra]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
