#!/usr/bin/env bash
# Builds the native x86-64 kernels — convolutions (../conv3d/conv3d.c, the WebAssembly build's source, at three vector widths) and
# elementwise ops (elementwise.c) — and their Node-API entry (addon.c) into
# mocksmith-linux-x64.node, which is committed: users and CI never
# compile C, and a machine where it does not load (another OS or CPU, no AVX2) runs the
# WebAssembly kernels instead. Needs gcc and Node's headers (Debian: nodejs's /usr/include/node,
# or NODE_INCLUDE=<node>/include/node).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cc="${CC:-gcc}"
inc="${NODE_INCLUDE:-/usr/include/node}"
build="$here/build"
mkdir -p "$build"
common=(-O3 -fPIC -std=gnu11 -Wall -Wextra -Werror -fno-math-errno -fno-trapping-math)
"$cc" "${common[@]}" -DVL=16 -DPFX=k16_ -march=x86-64-v4 -mprefer-vector-width=512 -c "$here/../conv3d/conv3d.c" -o "$build/k16.o"
"$cc" "${common[@]}" -DVL=8 -DPFX=k8_ -march=x86-64-v3 -c "$here/../conv3d/conv3d.c" -o "$build/k8.o"
"$cc" "${common[@]}" -DVL=4 -DPFX=k4_ -march=x86-64-v3 -c "$here/../conv3d/conv3d.c" -o "$build/k4.o"
# Elementwise: baseline x86-64 (SSE2) so they load on any x86-64; -ffp-contract=off keeps every
# operation separately rounded, as the stock kernels compute.
"$cc" "${common[@]}" -ffp-contract=off -c "$here/elementwise.c" -o "$build/elementwise.o"
"$cc" "${common[@]}" -I"$inc" -c "$here/addon.c" -o "$build/addon.o"
"$cc" -shared -pthread -o "$here/mocksmith-linux-x64.node" "$build/addon.o" "$build/k16.o" "$build/k8.o" "$build/k4.o" "$build/elementwise.o"
strip --strip-unneeded "$here/mocksmith-linux-x64.node"
echo "wrote $here/mocksmith-linux-x64.node ($(stat -c %s "$here/mocksmith-linux-x64.node") bytes, sha256 $(sha256sum "$here/mocksmith-linux-x64.node" | cut -c1-16)…)"
