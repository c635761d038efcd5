#!/usr/bin/env bash
# weft's one entry point for set-up, building and testing on Debian 12 (bookworm).
#
#   ./dev.sh demo   install Debian packages, build weft, run a shipped WASI example
#   ./dev.sh test   install Debian packages, build, run every test (ctest)
#   ./dev.sh deps   only install the Debian packages
#   ./dev.sh build [DIR] [cmake args...]   configure and build into DIR (default build/)
#   ./dev.sh release [DIR]   the fastest weft (DIR/weft, default build-release/): a Release
#                            build with profile-guided optimisation (instrument, train on
#                            bench/run.py --train, rebuild with the profile)
#
# Packages installed (apt-get, needs root or sudo): see DEPS below.
set -euo pipefail
cd "$(dirname "$0")"

DEPS=(build-essential cmake googletest libgtest-dev libgmock-dev libbenchmark-dev
      nlohmann-json3-dev wabt clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
      python3 nodejs)
JOBS="${JOBS:-$(nproc)}"

deps() {
  local missing=()
  for p in "${DEPS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "dev.sh: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() {
  local dir="${1:-build}"; shift || true
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

# Two builds of one directory, so the profiles' names (GCC derives them from the object
# paths) match: instrumented, a training run, then the same sources with the profile.
release() {
  local dir="${1:-build-release}" profile
  profile="$(mkdir -p "$dir" && cd "$dir" && pwd)/pgo-profile"
  rm -rf "$profile"
  local common=(-DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_TESTS=OFF -DWEFT_PGO_DIR="$profile")
  cmake -S . -B "$dir" "${common[@]}" -DWEFT_PGO=GENERATE >/dev/null
  cmake --build "$dir" -j "$JOBS" --target weft_cli
  python3 bench/run.py --train --weft "$dir/weft" --out "$dir/pgo-train"
  cmake -S . -B "$dir" "${common[@]}" -DWEFT_PGO=USE >/dev/null
  cmake --build "$dir" -j "$JOBS" --target weft_cli weft_compile_bench
  echo "dev.sh: $dir/weft is built with profile-guided optimisation"
}

case "${1:-}" in
  deps) deps ;;
  build) shift; deps; build "$@" ;;
  release) shift; deps; release "$@" ;;
  demo)
    deps; build build
    echo "== weft run --dir examples/guests::/data build/examples/guests/hello.wasm world"
    ./build/weft run --dir examples/guests::/data build/examples/guests/hello.wasm world
    ;;
  test)
    deps; build build
    cd build && ctest --output-on-failure -j "$JOBS" --timeout 600
    ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
