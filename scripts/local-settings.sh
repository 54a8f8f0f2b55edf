# Sourced by scripts/run.sh and scripts/stop.sh (make run, make stop), from the checkout's root: the
# settings of the project-local PostgreSQL, from the environment or else from .env (the file the
# `fastqueue` command reads too), and the data folder they name.
#
# .env lines are KEY=VALUE (an optional `export `, '#' comments, values optionally quoted); only
# FASTQUEUE_* keys are read, and a variable already set in the environment wins, as in the CLI.

load_dotenv() {
    local line key value
    [ -f .env ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line#"${line%%[![:space:]]*}"}"
        line="${line#export }"
        [[ "$line" =~ ^(FASTQUEUE_[A-Z0-9_]+)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
        key="${BASH_REMATCH[1]}"
        value="${BASH_REMATCH[2]}"
        if [[ "$value" =~ ^\"(.*)\"[[:space:]]*$ ]] || [[ "$value" =~ ^\'(.*)\'[[:space:]]*$ ]]; then
            value="${BASH_REMATCH[1]}"
        else
            value="${value%%[[:space:]]#*}"
            value="${value%"${value##*[![:space:]]}"}"
        fi
        [ -n "${!key+set}" ] || export "$key=$value"
    done < .env
}

# Where the cluster's data lives when FASTQUEUE_PGDATA is unset. Run as a normal user, the cluster is
# that user's and its data stays in the checkout. Run as root, PostgreSQL must run as the `postgres`
# user, which may not reach the checkout (root's home, /root, is mode 700): the data goes under
# /var/lib/fastqueue, one folder per checkout (its name and a hash of its path). A checkout whose
# cluster was made in .fastqueue/pgdata before keeps it there.
default_pgdata() {
    local name
    if [ "$(id -u)" -ne 0 ] || [ -f "$PWD/.fastqueue/pgdata/PG_VERSION" ]; then
        echo "$PWD/.fastqueue/pgdata"
        return
    fi
    name="$(printf '%s' "${PWD##*/}" | tr -c 'A-Za-z0-9._-' '_')-$(printf '%s' "$PWD" | sha256sum | cut -c1-12)"
    echo "/var/lib/fastqueue/$name/pgdata"
}

load_dotenv
FASTQUEUE_PGDATA="${FASTQUEUE_PGDATA:-$(default_pgdata)}"
FASTQUEUE_PGPORT="${FASTQUEUE_PGPORT:-54329}"
export FASTQUEUE_PGDATA FASTQUEUE_PGPORT
