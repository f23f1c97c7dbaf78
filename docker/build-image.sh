#!/usr/bin/env bash
# Build the sandbox image olympiad-judge-sandbox:<hash> and tag it :current.
#
# usage: docker/build-image.sh [--local | --registry] [--force]
#
#   --local     (default) needs no container registry: debootstrap a minimal Debian
#               bookworm with python3 (cached as a tarball), `docker import` it as the
#               base, download the pinned wheels on the host with pip, and install them
#               in a `docker build` over that base with `pip --no-index`.
#   --registry  build docker/Dockerfile (FROM python:3.11-slim); needs a registry.
#   --force     rebuild (without the layer cache) even if the hashed tag exists.
#
# <hash> is the sha256 of the build inputs (the mode, docker/Dockerfile, the
# requirements file and this script) cut to 12 characters. If that tag exists the
# build is skipped and only :current is moved to it.
#
# Environment:
#   OLYMPIAD_CACHE_DIR  rootfs tarball, wheels, logs (default /var/cache/olympiad-judge)
#   DEBIAN_MIRROR       debootstrap mirror (default http://deb.debian.org/debian)
#   PYTHON              host python whose pip downloads the wheels (default python3)
#   TORCH_INDEX_URL     an extra index with torch's +cpu wheels, when pip's own
#                       configuration does not provide them
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script="$here/$(basename "${BASH_SOURCE[0]}")"
requirements="$here/requirements-sandbox.txt"
dockerfile="$here/Dockerfile"

repo=olympiad-judge-sandbox
base_repo=olympiad-judge-base
cache_dir=${OLYMPIAD_CACHE_DIR:-/var/cache/olympiad-judge}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
python=${PYTHON:-python3}
suite=bookworm
variant=minbase
# python3 brings the full standard library; nothing else is needed at run time.
include=python3
# pip runs from its wheel during the build only: the image never contains pip.
pip_pin=pip==26.3
python_tag=3.11
platform=manylinux_2_28_x86_64

mode=local
force=0
for arg in "$@"; do
    case $arg in
        --local) mode=local ;;
        --registry) mode=registry ;;
        --force) force=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$script" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build-image: unknown option $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

say() { echo "build-image: $*" >&2; }
die() {
    echo "build-image: error: $*" >&2
    exit 1
}
sha12() { sha256sum | cut -c1-12; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
# Run a noisy command with its output in a log file, shown only when it fails.
logged() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "$1 failed (full log: $log)"
    fi
}

command -v docker >/dev/null || die "docker CLI not found: install docker.io"
docker info >/dev/null 2>&1 || die "Docker engine not reachable: start dockerd"

hash=$({
    echo "mode=$mode"
    cat "$dockerfile" "$requirements" "$script"
} | sha12)
tag="$repo:$hash"
started=$(date +%s)
mkdir -p "$cache_dir"

# --- the local path: debootstrap base, host-side wheels, docker build over the base ----

debootstrap_rootfs() {
    # Write a minimal bookworm root filesystem with python3, security fixes applied,
    # as the tarball $1.
    local tarball=$1 rootfs
    command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
    [[ $(id -u) == 0 ]] || die "debootstrap needs root: run as root or with sudo"
    rootfs=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$rootfs'" EXIT
    say "debootstrap --variant=$variant --include=$include $suite from $mirror"
    logged "$cache_dir/debootstrap.log" \
        debootstrap --variant="$variant" --include="$include" "$suite" "$rootfs" "$mirror"
    # The suite as released lacks the later security fixes: apply them in the chroot.
    printf 'deb %s %s main\n' "$mirror" "$suite" "$mirror" "$suite-updates" \
        "${mirror%/debian}/debian-security" "$suite-security" >"$rootfs/etc/apt/sources.list"
    say "applying $suite-updates and $suite-security inside the new root"
    logged "$cache_dir/apt-upgrade.log" \
        chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive \
        /bin/sh -c 'apt-get -q update && apt-get -q -y -o APT::Sandbox::User=root upgrade'
    # Package caches and lists, docs and logs are not needed at run time.
    rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.cache
    tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
    trap - EXIT
    say "cached the root filesystem as $tarball"
}

base_image() {
    # Print the tag of the imported root filesystem, importing (and first creating)
    # the cached tarball when the image is missing.
    local key base tarball
    key=$(echo "$suite $variant $include security-updates" | sha12)
    base="$base_repo:$suite-$key"
    tarball="$cache_dir/rootfs-$suite-$variant-$key.tar"
    if image_exists "$base"; then
        say "base image $base exists"
    else
        if [[ -s $tarball ]]; then
            say "reusing the cached root filesystem $tarball"
        else
            debootstrap_rootfs "$tarball"
        fi
        docker import --change 'CMD ["/usr/bin/python3"]' "$tarball" "$base" >/dev/null
        say "imported $tarball as $base"
    fi
    echo "$base"
}

fetch_wheels() {
    # Download every pinned wheel, and pip to install them, into $1 (once).
    local dest=$1
    local -a extra=()
    if [[ -f $dest/.complete ]]; then
        say "reusing the wheels in $dest"
        return
    fi
    if [[ -n ${TORCH_INDEX_URL:-} ]]; then
        extra=(--extra-index-url "$TORCH_INDEX_URL")
    fi
    say "downloading the pinned wheels into $dest"
    mkdir -p "$dest"
    logged "$cache_dir/pip-download.log" \
        "$python" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
        --python-version "$python_tag" --implementation cp --platform "$platform" \
        "${extra[@]}" -r "$requirements" "$pip_pin" -d "$dest"
    touch "$dest/.complete"
}

write_local_dockerfile() {
    # Write the Dockerfile of the local build over base $1, with pip's wheel named $2.
    local base=$1 pip_wheel=$2
    cat <<EOF
# Generated by docker/build-image.sh; inputs hash $hash.
FROM $base AS install
LABEL olympiad-judge.stage=install
COPY wheels/ /wheels/
# pip runs from its own wheel and is never installed; no index is contacted.
RUN python3 /wheels/$pip_wheel/pip install --no-index --find-links /wheels --no-deps \\
        --no-cache-dir --break-system-packages --root-user-action=ignore \\
        --disable-pip-version-check -r /wheels/requirements-sandbox.txt \\
    && python3 /wheels/$pip_wheel/pip check --disable-pip-version-check
# No bundled public datasets: a submission must not load them.
RUN site=\$(python3 -c 'import os, sklearn; print(os.path.dirname(sklearn.__file__))') \\
    && rm -rf "\$site/datasets/data" "\$site/datasets/descr" "\$site/datasets/images" \\
        "\$site/datasets/tests/data"

FROM $base
COPY --from=install /usr/local/ /usr/local/
RUN set -e; \\
    getent group 65534 >/dev/null || groupadd --gid 65534 sandbox; \\
    getent passwd 65534 >/dev/null || useradd --uid 65534 --gid 65534 --no-create-home \\
        --home-dir /sandbox/work --shell /usr/sbin/nologin sandbox; \\
    mkdir -p /sandbox/code /sandbox/data /sandbox/output /sandbox/work; \\
    chown 65534:65534 /sandbox/work /sandbox/output; \\
    rm -rf /root/.cache /var/cache/apt/* /var/lib/apt/lists/* /tmp/* /var/tmp/*
ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 HOME=/sandbox/work
LABEL org.opencontainers.image.title="olympiad-judge sandbox" olympiad-judge.inputs-hash="$hash"
USER 65534:65534
WORKDIR /sandbox/work
CMD ["/usr/bin/python3"]
EOF
}

build_local() {
    local base wheels context
    local -a cache_args=()
    base=$(base_image)
    wheels="$cache_dir/wheels-$( { cat "$requirements"; echo "$pip_pin $python_tag $platform"; } | sha12)"
    fetch_wheels "$wheels"
    context=$(mktemp -d "$cache_dir/context.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$context'" EXIT
    mkdir "$context/wheels"
    cp -l "$wheels"/*.whl "$context/wheels/" 2>/dev/null || cp "$wheels"/*.whl "$context/wheels/"
    cp "$requirements" "$context/wheels/requirements-sandbox.txt"
    write_local_dockerfile "$base" "$(cd "$wheels" && ls pip-*.whl)" >"$context/Dockerfile"
    if [[ $force == 1 ]]; then
        cache_args=(--no-cache)
    fi
    say "docker build $tag over $base (log: $cache_dir/docker-build.log)"
    # The classic builder: BuildKit may be absent, and nothing here needs it.
    export DOCKER_BUILDKIT=0
    logged "$cache_dir/docker-build.log" \
        docker build --pull=false --force-rm "${cache_args[@]}" -t "$tag" "$context"
    rm -rf "$context"
    trap - EXIT
    # The install stage (wheels and all) is not part of the image: drop it.
    docker image prune --force --filter label=olympiad-judge.stage=install >/dev/null
}

build_registry() {
    local -a args=()
    if [[ -n ${TORCH_INDEX_URL:-} ]]; then
        args+=(--build-arg "TORCH_INDEX_URL=$TORCH_INDEX_URL")
    fi
    if [[ $force == 1 ]]; then
        args+=(--no-cache)
    fi
    say "docker build $tag from docker/Dockerfile (python:3.11-slim)"
    docker build --pull --force-rm "${args[@]}" -t "$tag" -f "$dockerfile" "$here"
}

check_image() {
    # The image must import the stack as the sandbox user with a read-only root.
    say "checking $tag as user 65534 with a read-only root and no network"
    docker run --rm --network none --read-only --user 65534:65534 --cap-drop ALL \
        --security-opt no-new-privileges --tmpfs /tmp --tmpfs /sandbox/work \
        "$tag" /usr/bin/python3 -c '
import importlib.util, os, torch, numpy, sklearn, pandas, scipy, yaml
datasets = os.path.join(os.path.dirname(sklearn.__file__), "datasets")
bundled = [d for d in ("data", "descr", "images") if os.path.exists(os.path.join(datasets, d))]
assert not bundled, f"scikit-learn bundled data present: {bundled}"
assert importlib.util.find_spec("pip") is None, "pip is installed"
assert os.getuid() == 65534, os.getuid()
print("build-image: image has torch", torch.__version__, "numpy", numpy.__version__,
      "scikit-learn", sklearn.__version__, "pandas", pandas.__version__)
' >&2 || die "the image check failed for $tag"
}

previous=""
if image_exists "$tag" && [[ $force == 0 ]]; then
    say "$tag exists (inputs unchanged): skipping the build"
else
    previous=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
    case $mode in
        local) build_local ;;
        registry) build_registry ;;
    esac
    check_image
fi
docker tag "$tag" "$repo:current"
# A forced rebuild leaves the image it replaced without a tag: remove it.
if [[ -n $previous && $previous != "$(docker image inspect --format '{{.Id}}' "$tag")" ]] &&
    [[ $(docker image inspect --format '{{len .RepoTags}}' "$previous") == 0 ]]; then
    if docker rmi "$previous" >/dev/null 2>&1; then
        say "removed the replaced image ${previous#sha256:}"
    else
        say "could not remove the replaced image ${previous#sha256:}"
    fi
fi
size=$(docker image inspect --format '{{.Size}}' "$tag")
say "tagged $tag as $repo:current ($((size / 1024 / 1024)) MiB, $(($(date +%s) - started)) s)"
