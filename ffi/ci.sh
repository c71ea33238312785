#!/usr/bin/env bash
# CI for the C ABI (reflector-ffi). Run from anywhere: bash ffi/ci.sh
#
# Needs: cargo; cargo-c 0.10.24 (cargo install cargo-c --version 0.10.24+cargo-0.98.0
# --locked; without it ffi/install.sh installs the same files); cbindgen 0.29.0
# (installed here when missing); gcc with libasan (gcc's default on Debian);
# zlib1g-dev; pkg-config; binutils (readelf); valgrind; bird2 (bird, birdc);
# golang-go (1.19 or later).
#
# Steps: header regenerated and compared with the committed one; the library
# installed like a system library into a prefix under the target dir (cargo
# cinstall, or ffi/install.sh when cargo-c is missing): libreflector.so.1 with
# its SONAME, libreflector.a, reflector.h, reflector.pc; Rust tests; every C
# program built with exactly `cc prog.c $(pkg-config --cflags --libs reflector)`
# against the installed files (PKG_CONFIG_PATH into the prefix) and run; a
# program built against the frozen ABI 1.0 header run against the new library;
# the C engine and policy tests under valgrind and AddressSanitizer (+UBSan,
# LeakSanitizer) linked with the installed libreflector.a; the C reflector
# between two BIRD clients, plain, under valgrind and under AddressSanitizer;
# the Go module (go/): go vet, go test -race, and its example reflector
# (go/cmd/reflector-rr, built on Speaker) between two BIRD clients.
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

PREFIX=$BUILD/prefix
install_lib() {
    rm -rf "$PREFIX"
    if cargo cinstall --version >/dev/null 2>&1; then
        echo "cargo-c: $(cargo cinstall --version 2>&1 | head -1)"
        cargo cinstall -p reflector-ffi --release --prefix "$PREFIX" --libdir lib || return 1
    else
        echo "cargo-c missing: ffi/install.sh"
        bash "$FFI/install.sh" "$PREFIX" || return 1
    fi
    find "$PREFIX" | sort
    test -f "$PREFIX/lib/libreflector.a" && test -f "$PREFIX/include/reflector.h" &&
        test -f "$PREFIX/lib/pkgconfig/reflector.pc" && test -e "$PREFIX/lib/libreflector.so.1" &&
        cmp "$PREFIX/include/reflector.h" "$FFI/include/reflector.h"
}

soname() {
    readelf -d "$PREFIX/lib/libreflector.so.1" | tee "$BUILD/readelf.txt" | grep SONAME &&
        grep -q 'Library soname: \[libreflector.so.1\]' "$BUILD/readelf.txt"
}

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
CFLAGS_COMMON="-std=c11 -Wall -Wextra -Werror -g"
STATIC="$PREFIX/lib/libreflector.a -lpthread -ldl -lm"

build_c() {
    # Dynamic, exactly as the README tells a user: cc prog.c $(pkg-config --cflags --libs reflector).
    # shellcheck disable=SC2046
    (cd "$BUILD" &&
        cc "$FFI/examples/c/rr.c" $(pkg-config --cflags --libs reflector) -o rr &&
        cc "$FFI/examples/c/engine_test.c" $(pkg-config --cflags --libs reflector) -lz -o engine_test &&
        cc "$FFI/examples/c/policy_test.c" $(pkg-config --cflags --libs reflector) -o policy_test &&
        ldd rr | tee ldd.txt && grep -q "libreflector.so.1 => $PREFIX/lib/libreflector.so.1" ldd.txt) &&
        # Strict warnings too, against the installed header.
        # shellcheck disable=SC2046
        for p in rr engine_test policy_test; do
            gcc $CFLAGS_COMMON -fsyntax-only $(pkg-config --cflags reflector) "$FFI/examples/c/$p.c" || return 1
        done &&
        # Static, for valgrind and the sanitizers.
        gcc $CFLAGS_COMMON -O1 -I"$PREFIX/include" "$FFI/examples/c/engine_test.c" \
            -o "$BUILD/engine_test_static" $STATIC -lz &&
        gcc $CFLAGS_COMMON -O1 -I"$PREFIX/include" "$FFI/examples/c/rr.c" \
            -o "$BUILD/rr_static" $STATIC &&
        gcc $CFLAGS_COMMON -O1 -I"$PREFIX/include" "$FFI/examples/c/policy_test.c" \
            -o "$BUILD/policy_test_static" $STATIC &&
        gcc $CFLAGS_COMMON -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -I"$PREFIX/include" "$FFI/examples/c/engine_test.c" -o "$BUILD/engine_test_asan" $STATIC -lz &&
        gcc $CFLAGS_COMMON -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -I"$PREFIX/include" "$FFI/examples/c/rr.c" -o "$BUILD/rr_asan" $STATIC &&
        gcc $CFLAGS_COMMON -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -I"$PREFIX/include" "$FFI/examples/c/policy_test.c" -o "$BUILD/policy_test_asan" $STATIC
}

abi_old_caller() {
    # Built against the frozen ABI 1.0 header, linked against the installed libreflector.so.1.
    # shellcheck disable=SC2046
    gcc $CFLAGS_COMMON -I"$FFI/tests/abi/1.0" "$FFI/tests/abi/old_caller.c" \
        -o "$BUILD/old_caller" $(pkg-config --libs reflector) &&
        "$BUILD/old_caller" &&
        $VALGRIND "$BUILD/old_caller"
}

VALGRIND="valgrind --error-exitcode=1 --suppressions=$FFI/tests/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

GO=$REPO/go
# A build cache of its own, emptied each run: cgo's cached objects do not
# track pkg-config's answers or the installed header, and must not outlive them.
GOCACHE_DIR=$BUILD/gocache
go_env() {
    env GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=1 GOCACHE="$GOCACHE_DIR" \
        REFLECTOR_DATA="$DATA" "$@"
}
go_vet() { rm -rf "$GOCACHE_DIR" && (cd "$GO" && go_env go vet ./...); }
go_test() { (cd "$GO" && go_env go test -race -count=1 -v ./...); }
go_build_rr() { (cd "$GO" && go_env go build -o "$BUILD/go-rr" ./cmd/reflector-rr); }

step "cbindgen $CBINDGEN_VERSION available" need_cbindgen
step "reflector.h is what cbindgen generates" header_up_to_date
step "install libreflector into a prefix (cargo cinstall / install.sh)" install_lib
step "libreflector.so.1 has SONAME libreflector.so.1 (readelf -d)" soname
step "cargo test -p reflector-ffi" cargo test -p reflector-ffi
step "build the C programs (cc prog.c \$(pkg-config --cflags --libs reflector), static, ASan)" build_c
step "a program built against the ABI 1.0 header runs against this library (+valgrind)" abi_old_caller
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
step "go vet (go/)" go_vet
step "go test -race (go/)" go_test
step "build the Go reflector (go/cmd/reflector-rr, on Speaker)" go_build_rr
step "Go reflector (Speaker) with two BIRD clients" "$FFI/tests/bird_interop.sh" "$BUILD/go-rr" 21820

echo "ffi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
