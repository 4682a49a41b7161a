#!/usr/bin/env bash
# Installs everything PoseFix needs on a fresh Debian 12 machine (run as root;
# idempotent). C++ libraries and Bazel come from Debian's apt; the Python
# virtual environment holds only test-time reference tools (pycocotools,
# faster-coco-eval) on top of Debian's python3-torch/torchvision.
set -euo pipefail

APT_PACKAGES=(
  bazel-bootstrap bazel-platforms bazel-rules-java
  build-essential pkg-config
  libtorch-dev libopencv-dev libabsl-dev libprotobuf-dev protobuf-compiler
  libgflags-dev libgoogle-glog-dev libgtest-dev libgmock-dev libbenchmark-dev
  rapidjson-dev
  python3 python3-venv python3-numpy python3-torch python3-torchvision python3-matplotlib
)
VENV=${POSEFIX_VENV:-/opt/posefix/venv}
PIP_PACKAGES=(pycocotools faster-coco-eval)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's python3 (not a pyenv one) so that python3-torch is importable.
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
if ! "$VENV/bin/python" -c "import pycocotools, faster_coco_eval" 2>/dev/null; then
  echo "setup: pip installing ${PIP_PACKAGES[*]} into $VENV"
  "$VENV/bin/pip" install -q "${PIP_PACKAGES[@]}"
fi
echo "setup: done"
