#!/usr/bin/env bash
# Builds the classifier for the browser from source: crates/web compiled for
# wasm32-unknown-unknown, then wasm-bindgen's JavaScript glue beside the .wasm, in web/pkg/.
# `lstm-mnist export-web` copies that directory onto a static site. Reproducible from a fresh
# clone: the target and wasm-bindgen-cli (the version of the wasm-bindgen crate, pinned in
# crates/web/Cargo.toml) are installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
OUT=web/pkg
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown >&2
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" >&2
fi

# SIMD128 is in every browser since 2021; the flex backend's kernels use it.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
    cargo build --release --locked -p lstm-mnist-web --target wasm32-unknown-unknown >&2
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
    "$TARGET_DIR/wasm32-unknown-unknown/release/lstm_mnist_web.wasm"
ls -l "$OUT" >&2
