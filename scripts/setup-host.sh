#!/usr/bin/env bash
# Prepare this machine's sandboxes: Debian packages, a running Docker engine, the sandbox image.
#   setup-host.sh          everything (used by `make test` and CI), with Debian's chromium for
#                          the scoreboard's browser test
#   setup-host.sh --light  only bubblewrap, plus Docker if an engine already runs (used by `make demo`)
# Idempotent: what is already there is left alone. Needs root for installs; without root
# it says what is missing and goes on (the judge then picks another backend).
set -euo pipefail
cd "$(dirname "$0")/.."

light=false
[[ "${1:-}" == "--light" ]] && light=true
DOCKERD_PIDFILE=/tmp/olympiad-judge-dockerd.pid

say() { printf 'setup-host: %s\n' "$*"; }

need_packages=()
command -v bwrap >/dev/null || need_packages+=(bubblewrap)
if ! $light; then
    command -v dockerd >/dev/null || need_packages+=(docker.io)
    command -v debootstrap >/dev/null || need_packages+=(debootstrap)
    # Debian's chromium for the scoreboard's browser test (never a browser download).
    [[ -x /usr/bin/chromium ]] || need_packages+=(chromium)
fi
if ((${#need_packages[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing ${need_packages[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
    else
        say "missing ${need_packages[*]}: install them as root (apt-get install ${need_packages[*]})"
    fi
fi

engine_up() { timeout 5 docker info >/dev/null 2>&1; }

if ! $light && ! engine_up && command -v dockerd >/dev/null && [[ $(id -u) -eq 0 ]]; then
    say "starting dockerd"
    nohup dockerd >/tmp/olympiad-judge-dockerd.log 2>&1 &
    echo $! >"$DOCKERD_PIDFILE"
    for _ in $(seq 1 60); do engine_up && break; sleep 1; done
    engine_up || { say "dockerd did not start; see /tmp/olympiad-judge-dockerd.log"; exit 1; }
fi

if engine_up; then
    if $light; then
        docker image inspect olympiad-judge-sandbox:current >/dev/null 2>&1 \
            || say "no sandbox image yet: run 'make image' to judge in Docker"
    else
        bash docker/build-image.sh
    fi
fi
