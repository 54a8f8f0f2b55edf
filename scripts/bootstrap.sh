#!/usr/bin/env bash
# Installs what is missing, and only that, for one of the README's commands:
#
#   scripts/bootstrap.sh run    what `make run` needs: Debian's PostgreSQL 15 with pg_cron, and fastqueue
#                               with its runtime packages in .venv
#   scripts/bootstrap.sh test   (the default) also what `make test` needs: pgTAP and pg_prove, Chromium and
#                               its driver (the console's browser tests), pg_auto_failover (pg_autoctl, for
#                               scripts/ha-cluster.sh and the failover tests), PL/Proxy (the sharding tests,
#                               docs/sharding.md), docker-compose (it validates compose.yaml without a Docker
#                               daemon), and the test, lint and schema-drift tools
#
# Each step says what it does and how long it took; a step that fails stops the bootstrap with its name
# and its own output. Safe to run again: Debian packages are installed only when missing, and Python
# packages only when pyproject.toml changed (or the test tools are asked for the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-test}"
case "$mode" in
    run)
        debian_packages=(python3-venv postgresql-15 postgresql-contrib postgresql-15-cron)
        python_target="."
        ;;
    test)
        debian_packages=(python3-venv postgresql-15 postgresql-contrib postgresql-15-cron postgresql-15-pgtap
                         libtap-parser-sourcehandler-pgtap-perl chromium chromium-driver
                         postgresql-15-auto-failover postgresql-15-plproxy docker-compose)
        python_target=".[test,migra]"
        ;;
    *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

# step NAME COMMAND...: runs COMMAND with its output kept aside, then prints NAME with the seconds it
# took; on failure prints that output and stops.
step() {
    local name="$1" log started status
    shift
    log="$(mktemp /tmp/fastqueue-bootstrap.XXXXXX)"
    started=$SECONDS
    echo "bootstrap: $name ..."
    if "$@" >"$log" 2>&1; then
        echo "bootstrap: $name: done ($((SECONDS - started)) s)"
        rm -f "$log"
    else
        status=$?
        echo "bootstrap: $name: failed after $((SECONDS - started)) s (exit status $status); its output:" >&2
        # The last 150 lines: a failed build prints its error above the tracebacks that follow it (setuptools'
        # pyproject.toml validation: the bad value, then some 50 lines of traceback, then pip's summary).
        grep -v "^WARNING: Location 'file:" "$log" | tail -n 150 >&2 || true
        echo "bootstrap: $name failed, see above (whole output in $log); fix it and run the command again" >&2
        exit 1
    fi
}

started=$SECONDS
missing=()
for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "bootstrap: Debian packages: all ${#debian_packages[@]} installed ($((SECONDS - started)) s)"
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "bootstrap: fastqueue needs these Debian packages: ${missing[*]}" >&2
        echo "bootstrap: install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    step "apt-get update" apt-get update -q
    step "installing Debian packages ${missing[*]}" \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

hash="$(sha256sum < pyproject.toml | cut -c1-16)"
stamp=".venv/.installed-$mode-$hash"
if [ -f "$stamp" ] || { [ "$mode" = run ] && [ -f ".venv/.installed-test-$hash" ]; }; then
    echo "bootstrap: Python packages in .venv: up to date (0 s)"
else
    if [ ! -x .venv/bin/python ]; then
        step "creating the virtualenv .venv" python3 -m venv .venv
    fi
    # The pip a new venv gets (Python's bundled one, 23.2 for 3.11) spends minutes of CPU reading the
    # package index's pages (botocore lists thousands of files); a current pip reads them about three
    # times faster. Asked only when older (a satisfied requirement does not consult the index).
    step "a current pip in .venv" .venv/bin/python -m pip install --disable-pip-version-check "pip>=25"
    # --no-compile: Python compiles a module when it is first imported; compiling all 4,000 files at
    # install time (most of them never imported: pygments' lexers, botocore's services) costs ~20 s of CPU.
    step "installing Python packages ($python_target) into .venv" \
        .venv/bin/python -m pip install --disable-pip-version-check --no-compile -e "$python_target"
    rm -f .venv/.installed-*
    touch "$stamp"
    echo "bootstrap: Python packages in .venv: installed"
fi
