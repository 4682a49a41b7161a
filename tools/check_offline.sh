#!/usr/bin/env bash
# Proves the build needs no network: builds and tests TARGETS (default //...)
# from an empty output base inside a network namespace that has only loopback.
# Run as root: bash tools/check_offline.sh [TARGETS...]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("${@:-//...}")
output_base=$(mktemp -d /tmp/posefix_offline.XXXXXX)
trap 'bazel --output_base="$output_base" shutdown >/dev/null 2>&1 || true; rm -rf "$output_base"' EXIT
unshare --net sh -c 'ip link set lo up && exec "$@"' sh \
  bazel --output_base="$output_base" test "${targets[@]}"
