#!/bin/sh
# Fetches Wizer's native Linux x86-64 binary (which embeds wasmtime, Cranelift
# and wasmtime-wasi's preview1) from the npm registry into a cache OUTSIDE the
# repository and prints the binary's path, for `bench/run.py --peer-wizer`.
# Never commit the binary. npm checks the tarball against the registry's
# sha512 integrity value.
#
#   bench/peers/fetch_wizer.sh [VERSION]      (default 11.0.3)
#   cache: $WEFT_BENCH_CACHE, default ~/.cache/weft-bench
set -eu
version="${1:-11.0.3}"
cache="${WEFT_BENCH_CACHE:-$HOME/.cache/weft-bench}"
dest="$cache/wizer-$version"
if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "fetch_wizer.sh: only the linux-x64 package is wired up" >&2
  exit 2
fi
if [ ! -x "$dest/package/wizer" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@bytecodealliance/wizer-linux-x64@$version" >/dev/null)
  mkdir "$tmp/x"
  tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  rm -rf "$dest"
  mv "$tmp/x" "$dest"
fi
"$dest/package/wizer" --help >/dev/null
echo "$dest/package/wizer"
