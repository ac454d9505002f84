#!/usr/bin/env bash
# build.sh builds the control-plane binaries the e2e rig runs (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok) from Go
# modules and caches them outside the repository, keyed by version. It is
# idempotent: binaries that already exist are not rebuilt.
#
#   DAEMONCHECK_RIG_BIN  where the binaries go (default: the user cache dir,
#                        .../daemoncheck/rig/k8s-<ver>-kwok-<ver>/bin)
#
# The first build takes ~7-10 minutes on 2 cores (Kubernetes is big); later
# runs take well under a second.
set -euo pipefail
export GOTOOLCHAIN=local
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

k8s_version="$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' go.mod)"
kwok_version="v0.8.0"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}"
bin="${DAEMONCHECK_RIG_BIN:-$cache_root/daemoncheck/rig/k8s-$k8s_version-kwok-$kwok_version/bin}"
mkdir -p "$bin"
tmps=()
trap 'rm -rf "${tmps[@]}"' EXIT

missing=()
for b in etcd kube-apiserver kube-controller-manager kube-scheduler; do
	[[ -x "$bin/$b" ]] || missing+=("$b")
done

if ((${#missing[@]})); then
	echo "rig: building ${missing[*]} (Kubernetes $k8s_version) into $bin; a cold build takes ~7-10 min on 2 cores" >&2
	start=$SECONDS
	tmp="$(mktemp -d "$bin/.build.XXXXXX")"
	tmps+=("$tmp")
	major="${k8s_version#v}"; major="${major%%.*}"
	minor="${k8s_version#v*.}"; minor="${minor%%.*}"
	ldflags="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
	done
	pkgs=()
	for b in "${missing[@]}"; do
		case "$b" in
		etcd) pkgs+=(./etcd) ;;
		*) pkgs+=("k8s.io/kubernetes/cmd/$b") ;;
		esac
	done
	go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"
	for b in "${missing[@]}"; do mv -f "$tmp/$b" "$bin/$b"; done
	echo "rig: built ${missing[*]} in $((SECONDS - start))s" >&2
fi

if [[ ! -x "$bin/kwok" ]]; then
	echo "rig: building kwok $kwok_version into $bin" >&2
	start=$SECONDS
	tmp="$(mktemp -d "$bin/.build.XXXXXX")"
	tmps+=("$tmp")
	GOBIN="$tmp" GOFLAGS=-trimpath go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
	mv -f "$tmp/kwok" "$bin/kwok"
	echo "rig: built kwok in $((SECONDS - start))s" >&2
fi

# kwok's own Stage objects (node and pod lifecycles) are read from the kwok
# module at build time and kept next to the binaries; the rig loads them from
# there at run time.
stages="$bin/kwok-stages"
if [[ ! -d "$stages" ]]; then
	kwok_dir="$(go mod download -json "sigs.k8s.io/kwok@$kwok_version" | awk -F'"' '$2=="Dir" {print $4}')"
	tmp="$(mktemp -d "$bin/.stages.XXXXXX")"
	tmps+=("$tmp")
	for s in node/fast node/heartbeat pod/fast; do
		for f in "$kwok_dir/kustomize/stage/$s"/*.yaml; do
			[[ "$(basename "$f")" == kustomization.yaml ]] && continue
			cp "$f" "$tmp/"
		done
	done
	chmod -R u+w "$tmp"
	mv "$tmp" "$stages"
fi

echo "$bin"
