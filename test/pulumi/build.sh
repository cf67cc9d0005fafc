#!/usr/bin/env bash
# Builds the real `pulumi` CLI (and, when test/pulumi/provider/ exists, `pulumi-resource-digitalocean`)
# from the Go modules pinned in test/pulumi/*/go.mod, once per (go.mod, go.sum, `go version`) hash, into
#   $HOME/.cache/ood/pulumi/<hash>/bin/
# Prints progress to stderr and the bin dir on stdout. Safe to call from many test workers at once:
# the first takes a flock and builds, the others wait and reuse its result; with the binaries present
# it returns at once without taking the lock.
#
# Env: OOD_PULUMI_NICE (default 19) and OOD_PULUMI_JOBS (go build -p, default 1) keep the build
# from starving the rest of the machine. Go's module and build caches are Go's defaults.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
t0=$(date +%s)
log() { echo "pulumi-build: [$(($(date +%s) - t0))s] $*" >&2; }

# The go machine kind has Go in /usr/local/go; a shell that did not put it on PATH still finds it.
command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { log "go not found on PATH (nor in /usr/local/go/bin): install Go 1.24 or newer"; exit 1; }

mods=(cli)
[ -f "$here/provider/go.mod" ] && mods+=(provider)

hash=$(
  for m in "${mods[@]}"; do
    for f in go.mod go.sum; do printf '== %s/%s\n' "$m" "$f"; cat "$here/$m/$f"; done
  done
  go version
) || exit 1
hash=$(printf '%s' "$hash" | sha256sum | cut -c1-16)
out="$HOME/.cache/ood/pulumi/$hash"
bin="$out/bin"

want=(pulumi)
[[ " ${mods[*]} " == *" provider "* ]] && want+=(pulumi-resource-digitalocean)
have_all() { local b; for b in "${want[@]}"; do [ -x "$bin/$b" ] || return 1; done; }

if have_all; then echo "$bin"; exit 0; fi

mkdir -p "$out"
exec 9>"$out/.lock"
log "waiting for the build lock ($out/.lock)"
flock 9
if have_all; then log "built meanwhile by another process"; echo "$bin"; exit 0; fi

nice_n=${OOD_PULUMI_NICE:-19}
jobs=${OOD_PULUMI_JOBS:-1}
rm -rf "$out"/tmp.*   # left by a build that was killed; we hold the lock, so nobody else is using them
tmp=$(mktemp -d "$out/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$bin"

# go build with the release flags; $1 = module dir, $2 = output name, $3 = ldflags "-X pkg.Var=value ...",
# $4 = import path (or . for the module's own main)
gobuild() {
  log "building $2 (go build -p $jobs at nice $nice_n; first run downloads modules)"
  local s=$(date +%s)
  (cd "$here/$1" && CGO_ENABLED=0 nice -n "$nice_n" go build -p "$jobs" -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w $3" -o "$tmp/$2" "$4")
  mv -f "$tmp/$2" "$bin/$2"
  log "built $2 in $(($(date +%s) - s))s ($(du -h "$bin/$2" | cut -f1))"
}

if [ ! -x "$bin/pulumi" ]; then
  cd "$here/cli"
  log "reading pinned versions"
  pkgv=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
  sdkv=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
  if [ "$pkgv" != "$sdkv" ]; then log "cli/go.mod pins pkg $pkgv but sdk $sdkv: pin both to the same tag"; exit 1; fi
  gobuild cli pulumi "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pkgv" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
fi

if [[ " ${mods[*]} " == *" provider "* ]] && [ ! -x "$bin/pulumi-resource-digitalocean" ]; then
  # The linker ignores an -X whose variable does not exist: the first fits pulumi-digitalocean's own
  # provider package, the second a main.go of ours that declares `var version string`.
  dov=${OOD_DO_PROVIDER_VERSION:-4.57.0}
  gobuild provider pulumi-resource-digitalocean \
    "-X github.com/pulumi/pulumi-digitalocean/provider/v4/pkg/version.Version=$dov -X main.version=$dov" .
fi

log "done: $bin"
echo "$bin"
