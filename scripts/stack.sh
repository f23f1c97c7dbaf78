#!/usr/bin/env bash
# The scaled-out service on this machine, from Debian's packages: PostgreSQL, Redis, the
# API and Celery workers, in the background, with their data under .stack/ (git-ignored).
#
#   bash scripts/stack.sh up     (make stack)       start everything; return once /healthz answers
#   bash scripts/stack.sh down   (make stack-down)  stop everything it started
#
# Settings: STACK_PORT (API port, default 8000), STACK_WORKERS (Celery workers, default 2),
# STACK_SANDBOX (default auto), STACK_DIR (default .stack; the tests use their own).
# Writes .stack/env (export lines: JUDGE_DATABASE_URL, JUDGE_BROKER_URL, JUDGE_DISPATCH,
# STACK_URL) and one pid file per process in
# .stack/pids/: postgres.pid, redis.pid, api.pid, workers.pid (the `judge worker` that
# runs them) and worker-1.pid, worker-2.pid, ... (each worker's task-running process).
# PostgreSQL and Redis listen on 127.0.0.1 only, on free ports chosen at the first start.
# PostgreSQL trusts every local connection (a development stack: never expose it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STACK=$(realpath -m "${STACK_DIR:-$ROOT/.stack}")
PIDS=$STACK/pids
LOGS=$STACK/logs
PY=$ROOT/.venv/bin/python
JUDGE=$ROOT/.venv/bin/judge
PORT=${STACK_PORT:-8000}
WORKERS=${STACK_WORKERS:-2}
SANDBOX=${STACK_SANDBOX:-auto}

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

alive() { [[ -s $1 ]] && kill -0 "$(<"$1")" 2>/dev/null; }

as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A port kept in .stack/<name>.port, chosen once, so that a restart keeps its URLs.
port_of() {
    local file=$STACK/$1.port
    [[ -s $file ]] || free_port >"$file"
    cat "$file"
}

packages() {
    local need=()
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
    command -v redis-server >/dev/null || need+=(redis-server)
    if ((${#need[@]})); then
        [[ $(id -u) -eq 0 ]] || die "missing ${need[*]}: apt-get install ${need[*]} (as root)"
        say "installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
}

start_postgres() {
    local bin data port
    bin=$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -1)")
    data=$STACK/postgres
    port=$(port_of postgres)
    mkdir -p "$data" "$STACK/sockets" "$LOGS/postgres"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$data" "$STACK/sockets" "$LOGS/postgres"
        runuser -u postgres -- test -x "$data" \
            || die "the postgres user cannot reach $data: clone the project where it can"
    fi
    if [[ ! -s $data/PG_VERSION ]]; then
        as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 >"$LOGS/initdb.log"
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_postgres "$bin/pg_ctl" -D "$data" -l "$LOGS/postgres/server.log" -w \
            -o "-c listen_addresses=127.0.0.1 -p $port -k '$STACK/sockets'" start >/dev/null
    fi
    head -1 "$data/postmaster.pid" >"$PIDS/postgres.pid"
    local found
    found=$(as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'judge'")
    if [[ $found != 1 ]]; then
        as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres judge
    fi
    say "PostgreSQL on 127.0.0.1:$port"
}

start_redis() {
    local port
    port=$(port_of redis)
    mkdir -p "$STACK/redis"
    if ! alive "$PIDS/redis.pid"; then
        # append-only on, eviction off: a queued message is never dropped to make room
        redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes \
            --dir "$STACK/redis" --appendonly yes --maxmemory-policy noeviction \
            --daemonize yes --pidfile "$PIDS/redis.pid" --logfile "$LOGS/redis.log"
        for _ in $(seq 1 100); do alive "$PIDS/redis.pid" && break; sleep 0.1; done
        alive "$PIDS/redis.pid" || die "Redis did not start: see $LOGS/redis.log"
    fi
    say "Redis on 127.0.0.1:$port"
}

write_env() {
    cat >"$STACK/env" <<EOF
export JUDGE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$(port_of postgres)/judge
export JUDGE_BROKER_URL=redis://127.0.0.1:$(port_of redis)/0
export JUDGE_DISPATCH=celery
export STACK_URL=http://127.0.0.1:$PORT
EOF
}

start_service() {
    # shellcheck disable=SC1091
    source "$STACK/env"
    if ! alive "$PIDS/api.pid"; then
        setsid "$JUDGE" serve --data "$STACK/data" --host 127.0.0.1 --port "$PORT" \
            --workers 0 --sandbox "$SANDBOX" >"$LOGS/api.log" 2>&1 </dev/null &
        echo $! >"$PIDS/api.pid"
    fi
    local up=false
    for _ in $(seq 1 600); do
        if "$PY" -c "import httpx, sys; sys.exit(httpx.get('$STACK_URL/healthz').status_code != 200)" \
            2>/dev/null; then
            up=true
            break
        fi
        alive "$PIDS/api.pid" || die "the API stopped: see $LOGS/api.log"
        sleep 0.1
    done
    $up || die "the API did not answer /healthz within 60 s: see $LOGS/api.log"
    if ! alive "$PIDS/workers.pid"; then
        rm -f "$PIDS"/worker-*.pid
        setsid "$JUDGE" worker --data "$STACK/data" --workers "$WORKERS" --sandbox "$SANDBOX" \
            --pid-dir "$PIDS" >"$LOGS/workers.log" 2>&1 </dev/null &
        echo $! >"$PIDS/workers.pid"
    fi
    local ready=0
    for _ in $(seq 1 1200); do
        ready=0
        for i in $(seq 1 "$WORKERS"); do alive "$PIDS/worker-$i.pid" && ready=$((ready + 1)); done
        ((ready == WORKERS)) && break
        alive "$PIDS/workers.pid" || die "the workers stopped: see $LOGS/workers.log"
        sleep 0.1
    done
    ((ready == WORKERS)) || die "$ready of $WORKERS worker(s) ready after 120 s: see $LOGS/workers.log"
    say "API on $STACK_URL, $WORKERS Celery worker(s); environment in .stack/env"
}

stop_pid() {  # stop_pid NAME [group]: SIGTERM the process (or its process group, which
    # `setsid` made: the process and all it started), wait up to 60 s, then SIGKILL it
    local file=$PIDS/$1.pid
    if alive "$file"; then
        local pid target
        pid=$(<"$file")
        target=$pid
        [[ ${2:-} == group ]] && target=-$pid
        kill -TERM -- "$target" 2>/dev/null || true
        for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if [[ ${2:-} == group ]] || kill -0 "$pid" 2>/dev/null; then
            kill -KILL -- "$target" 2>/dev/null || true  # stragglers of the group
        fi
    fi
    rm -f "$file"
}

down() {
    [[ -d $PIDS ]] || { say "nothing to stop"; return 0; }
    stop_pid workers group  # the Celery workers and their task-running children with it
    rm -f "$PIDS"/worker-*.pid
    stop_pid api group
    stop_pid redis
    local bin
    bin=$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -1)")
    if [[ -s $STACK/postgres/PG_VERSION ]]; then
        as_postgres "$bin/pg_ctl" -D "$STACK/postgres" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -f "$PIDS/postgres.pid"
    say "stopped"
}

case "${1:-}" in
    up)
        [[ -x $JUDGE ]] || die "run make install first"
        mkdir -p "$PIDS" "$LOGS"
        packages
        start_postgres
        start_redis
        write_env
        start_service
        ;;
    down) down ;;
    *) die "usage: $0 up|down" ;;
esac
