#!/usr/bin/env bash
# Prepare this machine's sandboxes: Debian packages, a running Docker engine, the sandbox image.
#   setup-host.sh          everything (used by `make test` and CI), with Debian's chromium for
#                          the scoreboard's browser test, PostgreSQL and Redis for the service's tests
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
    # PostgreSQL and Redis for the service's tests on real servers (they start their own,
    # on 127.0.0.1 and free ports) and for `make stack`.
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_packages+=(postgresql)
    command -v redis-server >/dev/null || need_packages+=(redis-server)
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

# Docker's default seccomp profile, which the judge's docker profile starts from
# (judge/sandbox/seccomp_profile.py). Third-party content, so it is not in the
# repository: Debian ships the engine's own copy in golang-github-docker-docker-dev,
# built from the same source as docker.io. Fetched whenever Docker is installed.
SECCOMP_DEFAULT=/usr/local/share/olympiad-judge/docker-default-seccomp.json
SECCOMP_DEV_PACKAGE=golang-github-docker-docker-dev
SECCOMP_MEMBER=usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json

fetch_docker_seccomp_default() (
    # The -dev package of the installed docker.io's source version, else the candidate.
    # A subshell, so the temporary folder goes with its EXIT trap.
    local want stamp tmp deb
    want=$(dpkg-query -W -f='${source:Version}' docker.io 2>/dev/null || true)
    stamp="$SECCOMP_DEFAULT.version"
    if [[ -s $SECCOMP_DEFAULT && -s $stamp ]] && { [[ -z $want ]] || [[ $(<"$stamp") == "$want" ]]; }; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        say "missing $SECCOMP_DEFAULT (Docker's default seccomp profile): run this script as root"
        return 0
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    download() { (cd "$tmp" && apt-get download -qq "$1" >/dev/null 2>&1); }
    if [[ -n $want ]] && { download "$SECCOMP_DEV_PACKAGE=$want" \
        || { apt-get update -qq && download "$SECCOMP_DEV_PACKAGE=$want"; }; }; then
        :
    elif download "$SECCOMP_DEV_PACKAGE" || { apt-get update -qq && download "$SECCOMP_DEV_PACKAGE"; }; then
        [[ -z $want ]] || say "no $SECCOMP_DEV_PACKAGE $want to download; using the candidate"
    else
        say "could not download $SECCOMP_DEV_PACKAGE: the docker backend stays unavailable"
        return 0
    fi
    deb=$(find "$tmp" -maxdepth 1 -name "${SECCOMP_DEV_PACKAGE}_*.deb" -print -quit)
    dpkg-deb -x "$deb" "$tmp/root"
    if [[ ! -s $tmp/root/$SECCOMP_MEMBER ]]; then
        say "$deb holds no $SECCOMP_MEMBER: the docker backend stays unavailable"
        return 0
    fi
    install -D -m 0644 "$tmp/root/$SECCOMP_MEMBER" "$SECCOMP_DEFAULT"
    dpkg-deb -f "$deb" Version >"$stamp"
    say "installed Docker's default seccomp profile ($SECCOMP_DEV_PACKAGE $(<"$stamp")) as $SECCOMP_DEFAULT"
)

if command -v dockerd >/dev/null || command -v docker >/dev/null; then
    fetch_docker_seccomp_default
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
