#!/usr/bin/env bash
# Install libreflector like a system library WITHOUT cargo-c (the same layout
# `cargo cinstall -p reflector-ffi --release --prefix PREFIX` produces):
#
#   bash ffi/install.sh PREFIX [DESTDIR]
#
#   PREFIX/lib/libreflector.so.1.0.0   (SONAME libreflector.so.1)
#   PREFIX/lib/libreflector.so.1 -> libreflector.so.1.0.0
#   PREFIX/lib/libreflector.so   -> libreflector.so.1.0.0
#   PREFIX/lib/libreflector.a
#   PREFIX/include/reflector.h
#   PREFIX/lib/pkgconfig/reflector.pc
#
# DESTDIR stages the files (packaging): they go to DESTDIR/PREFIX/... while the
# .pc still names PREFIX. Honours CARGO_TARGET_DIR. Needs cargo and a C linker.
set -euo pipefail
FFI=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$FFI/.." && pwd)
PREFIX=${1:?usage: install.sh PREFIX [DESTDIR]}
DESTDIR=${2:-}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
# The ABI version ([package.metadata.capi.library] version in ffi/Cargo.toml).
ABI=$(sed -n '/^\[package.metadata.capi.library\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$FFI/Cargo.toml")
MAJOR=${ABI%%.*}
VERSION=$(sed -n 's/^#define RFL_VERSION_STRING "\(.*\)"/\1/p' "$FFI/include/reflector.h")
[ -n "$ABI" ] && [ -n "$VERSION" ] || { echo "install.sh: cannot read the versions" >&2; exit 1; }

cd "$REPO"
cargo rustc -p reflector-ffi --release --lib --crate-type cdylib -- \
    -C link-arg=-Wl,-soname,libreflector.so."$MAJOR"
cp "$TARGET/release/libreflector.so" "$TARGET/release/libreflector.so.$ABI.tmp"
native=$(cargo rustc -p reflector-ffi --release --lib --crate-type staticlib -- \
    --print native-static-libs 2>&1 | sed -n 's/.*native-static-libs: //p' | tail -1)

lib=$DESTDIR$PREFIX/lib
inc=$DESTDIR$PREFIX/include
mkdir -p "$lib/pkgconfig" "$inc"
install -m 0755 "$TARGET/release/libreflector.so.$ABI.tmp" "$lib/libreflector.so.$ABI"
rm -f "$TARGET/release/libreflector.so.$ABI.tmp"
ln -sf "libreflector.so.$ABI" "$lib/libreflector.so.$MAJOR"
ln -sf "libreflector.so.$ABI" "$lib/libreflector.so"
install -m 0644 "$TARGET/release/libreflector.a" "$lib/libreflector.a"
install -m 0644 "$FFI/include/reflector.h" "$inc/reflector.h"
cat >"$lib/pkgconfig/reflector.pc" <<PC
prefix=$PREFIX
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: reflector
Description: Reflector, an embeddable BGP route-reflection engine (C ABI)
Version: $VERSION
Libs: -L\${libdir} -lreflector
Libs.private: ${native:--lgcc_s -lutil -lrt -lpthread -lm -ldl -lc}
Cflags: -I\${includedir}
PC
echo "install.sh: libreflector.so.$ABI (SONAME libreflector.so.$MAJOR) under $DESTDIR$PREFIX"
