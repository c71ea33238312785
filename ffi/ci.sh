#!/usr/bin/env bash
# CI for the C ABI (reflector-ffi). Run from anywhere: bash ffi/ci.sh
#
# Needs: cargo; cbindgen 0.29.0 (cargo install cbindgen --version 0.29.0 --locked,
# installed here when missing); gcc with libasan (gcc's default on Debian);
# zlib1g-dev; pkg-config; valgrind; bird2 (bird, birdc); golang-go.
#
# Steps: header regenerated and compared with the committed one; library built
# (release); reflector.pc generated; Rust tests; the C engine test against the
# shared data linked dynamically through pkg-config, under valgrind and under
# AddressSanitizer (+UBSan, LeakSanitizer); the C policy test (policies,
# hooks, RFC 8212) the same three ways; the C reflector between two BIRD
# clients, plain, under valgrind and under AddressSanitizer; go test.
# Ends with "ffi: N passed, M failed"; exits non-zero if anything failed.
set -u
FFI=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$FFI/.." && pwd)
DATA=${REFLECTOR_DATA:-$REPO/../shared/data}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
export CARGO_TARGET_DIR=$TARGET
BUILD=$TARGET/ffi-ci
MRT=$DATA/mrt/updates.20190101.0000.gz
CBINDGEN_VERSION=0.29.0
mkdir -p "$BUILD"
passed=0
failed=0

step() { # step NAME COMMAND...
    local name=$1 t0=$SECONDS
    shift
    echo "=== $name"
    if "$@"; then
        echo "=== ok   $name ($((SECONDS - t0)) s)"
        passed=$((passed + 1))
    else
        echo "=== FAIL $name ($((SECONDS - t0)) s)"
        failed=$((failed + 1))
    fi
}

need_cbindgen() {
    if ! cbindgen --version 2>/dev/null | grep -q " $CBINDGEN_VERSION"; then
        cargo install cbindgen --version "$CBINDGEN_VERSION" --locked || return 1
    fi
}

header_up_to_date() {
    (cd "$FFI" && cbindgen --quiet --config cbindgen.toml --output "$BUILD/reflector.h") || return 1
    diff -u "$FFI/include/reflector.h" "$BUILD/reflector.h"
}

build_lib() {
    cargo build --release -p reflector-ffi || return 1
    local version
    version=$(grep -m1 '^#define RFL_VERSION_STRING' "$FFI/include/reflector.h" | cut -d'"' -f2)
    sed -e "s|@PREFIX@|$TARGET/release|" -e "s|@LIBDIR@|$TARGET/release|" \
        -e "s|@INCLUDEDIR@|$FFI/include|" -e "s|@VERSION@|$version|" \
        "$FFI/reflector.pc.in" >"$BUILD/reflector.pc"
    test -f "$TARGET/release/libreflector.so" && test -f "$TARGET/release/libreflector.a"
}

export PKG_CONFIG_PATH=$BUILD${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$TARGET/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
CFLAGS_COMMON="-std=c11 -Wall -Wextra -Werror -g"
STATIC="$TARGET/release/libreflector.a -lpthread -ldl -lm"

build_c() {
    # Dynamic, found the usual way through pkg-config.
    # shellcheck disable=SC2046,SC2086
    gcc $CFLAGS_COMMON -O2 $(pkg-config --cflags reflector) "$FFI/examples/c/engine_test.c" \
        -o "$BUILD/engine_test" $(pkg-config --libs reflector) -lz &&
        gcc $CFLAGS_COMMON -O2 $(pkg-config --cflags reflector) "$FFI/examples/c/rr.c" \
            -o "$BUILD/rr" $(pkg-config --libs reflector) &&
        gcc $CFLAGS_COMMON -O2 $(pkg-config --cflags reflector) "$FFI/examples/c/policy_test.c" \
            -o "$BUILD/policy_test" $(pkg-config --libs reflector) &&
        # Static, for valgrind and the sanitizers.
        gcc $CFLAGS_COMMON -O1 -I"$FFI/include" "$FFI/examples/c/engine_test.c" \
            -o "$BUILD/engine_test_static" $STATIC -lz &&
        gcc $CFLAGS_COMMON -O1 -I"$FFI/include" "$FFI/examples/c/rr.c" \
            -o "$BUILD/rr_static" $STATIC &&
        gcc $CFLAGS_COMMON -O1 -I"$FFI/include" "$FFI/examples/c/policy_test.c" \
            -o "$BUILD/policy_test_static" $STATIC &&
        gcc $CFLAGS_COMMON -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -I"$FFI/include" "$FFI/examples/c/engine_test.c" -o "$BUILD/engine_test_asan" $STATIC -lz &&
        gcc $CFLAGS_COMMON -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -I"$FFI/include" "$FFI/examples/c/rr.c" -o "$BUILD/rr_asan" $STATIC &&
        gcc $CFLAGS_COMMON -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -I"$FFI/include" "$FFI/examples/c/policy_test.c" -o "$BUILD/policy_test_asan" $STATIC
}

VALGRIND="valgrind --error-exitcode=1 --suppressions=$FFI/tests/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

go_test() {
    (cd "$FFI/examples/go" && GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1 REFLECTOR_DATA="$DATA" \
        go test -count=1 -v ./...)
}

step "cbindgen $CBINDGEN_VERSION available" need_cbindgen
step "reflector.h is what cbindgen generates" header_up_to_date
step "build libreflector (release) and reflector.pc" build_lib
step "cargo test -p reflector-ffi" cargo test -p reflector-ffi
step "build the C programs (pkg-config, static, ASan)" build_c
step "C engine test (dynamic)" "$BUILD/engine_test" "$MRT"
# shellcheck disable=SC2086
step "C engine test under valgrind" $VALGRIND "$BUILD/engine_test_static" "$MRT"
step "C engine test under AddressSanitizer" "$BUILD/engine_test_asan" "$MRT"
step "C policy test (dynamic)" "$BUILD/policy_test"
# shellcheck disable=SC2086
step "C policy test under valgrind" $VALGRIND "$BUILD/policy_test_static"
step "C policy test under AddressSanitizer" "$BUILD/policy_test_asan"
step "C reflector with two BIRD clients" "$FFI/tests/bird_interop.sh" "$BUILD/rr" 21790
step "C reflector with two BIRD clients, under valgrind" \
    env RR_WRAPPER="$VALGRIND" "$FFI/tests/bird_interop.sh" "$BUILD/rr_static" 21800
step "C reflector with two BIRD clients, AddressSanitizer" "$FFI/tests/bird_interop.sh" "$BUILD/rr_asan" 21810
step "go test (cgo wrapper)" go_test

echo "ffi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
