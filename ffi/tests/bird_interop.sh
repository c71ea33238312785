#!/usr/bin/env bash
# Interop: the C route reflector (ffi/examples/c/rr.c, linked against
# libreflector) between two BIRD 2 clients on loopback.
#
#   bird A (127.0.0.2, router id 10.0.0.1) ──┐
#                                            rr (127.0.0.1:PORT, AS 65000, cluster 10.0.0.254)
#   bird B (127.0.0.3, router id 10.0.0.2) ──┘
#
# A originates 198.51.100.0/24 (static); B must learn it from rr with
# ORIGINATOR_ID 10.0.0.1 and CLUSTER_LIST 10.0.0.254 (read back with
# `birdc show route all`); when A withdraws it, B must lose it; rr must exit 0
# after SIGTERM with a Cease sent to both. In between, A is killed (no
# NOTIFICATION) and restarted: graceful restart keeps its route at B.
#
# Usage: bird_interop.sh RR_BINARY [PORT]
# RR_WRAPPER (environment) runs rr under a tool, e.g. "valgrind --error-exitcode=1
# --leak-check=full": rr's exit status (checked after SIGTERM) then includes it.
# Every wait is bounded; only processes started here are stopped, by pid.
set -u

RR=${1:?usage: bird_interop.sh RR_BINARY [PORT]}
PORT=${2:-21790}
WORK=$(mktemp -d /tmp/rfl-bird.XXXXXX)
PIDS=()
passed=0
failed=0

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.5 s until it succeeds or time runs out.
wait_for() {
    local tries=$(($1 * 2))
    shift
    for _ in $(seq 1 "$tries"); do
        "$@" && return 0
        sleep 0.5
    done
    return 1
}

bird_conf() { # bird_conf ROUTER_ID LOCAL_ADDR LOCAL_PORT ORIGINATE(yes/no)
    cat <<EOF
log "$WORK/bird-$1.log" all;
router id $1;
protocol device { scan time 1; }
EOF
    if [ "$4" = yes ]; then
        cat <<EOF
protocol static originated {
    ipv4;
    route 198.51.100.0/24 blackhole;
}
EOF
    fi
    cat <<EOF
protocol bgp upstream {
    local $2 port $3 as 65000;
    neighbor 127.0.0.1 port $PORT as 65000;
    hold time 9;
    connect retry time 1;
    ipv4 {
        import all;
        export where net = 198.51.100.0/24;
        next hop self;
    };
}
EOF
}

bird_conf 10.0.0.1 127.0.0.2 $((PORT + 1)) yes >"$WORK/a.conf"
bird_conf 10.0.0.2 127.0.0.3 $((PORT + 2)) no >"$WORK/b.conf"

${RR_WRAPPER:-} "$RR" 127.0.0.1 "$PORT" 65000 10.0.0.254 --max-seconds 120 \
    127.0.0.2:client 127.0.0.3:client 2>"$WORK/rr.log" &
RR_PID=$!
PIDS+=("$RR_PID")
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null

start_bird() { # start_bird a|b: start it in the background, its pid in BIRD_PID
    bird -f -c "$WORK/$1.conf" -s "$WORK/$1.ctl" -P "$WORK/$1.pid" 2>>"$WORK/bird-$1.err" &
    BIRD_PID=$!
    PIDS+=("$BIRD_PID")
}
start_bird a
BIRD_A=$BIRD_PID
start_bird b

birdc_a() { birdc -s "$WORK/a.ctl" "$@"; }
bird_up() { birdc -s "$WORK/$1.ctl" show status 2>/dev/null | grep -q "Daemon is up"; }
check "bird A running" wait_for 10 bird_up a
check "bird B running" wait_for 10 bird_up b
if [ "$failed" -ne 0 ]; then
    cat "$WORK"/bird-*.err
    echo "bird_interop: $passed passed, $failed failed"
    exit 1
fi
birdc_b() { birdc -s "$WORK/b.ctl" "$@"; }
established() { "$1" show protocols upstream 2>/dev/null | grep -q Established; }
route_at_b() { birdc_b show route all 198.51.100.0/24 >"$WORK/b.route" 2>&1 && grep -q "198.51.100.0/24" "$WORK/b.route"; }
no_route_at_b() { birdc_b show route 198.51.100.0/24 >"$WORK/b.route2" 2>&1; grep -q BIRD "$WORK/b.route2" && ! grep -q "\[upstream" "$WORK/b.route2"; }

check "bird A established with rr" wait_for 30 established birdc_a
check "bird B established with rr" wait_for 30 established birdc_b
check "B learns A's prefix through rr" wait_for 30 route_at_b
echo "--- birdc show route all 198.51.100.0/24 (at B)"
cat "$WORK/b.route"
echo "---"
check "ORIGINATOR_ID is A's router ID" grep -Eq "BGP.originator_id: 10\.0\.0\.1$" "$WORK/b.route"
check "CLUSTER_LIST is rr's cluster ID" grep -Eq "BGP.cluster_list: 10\.0\.0\.254$" "$WORK/b.route"
check "NEXT_HOP unchanged (A's address)" grep -Eq "BGP.next_hop: 127\.0\.0\.2$" "$WORK/b.route"
check "AS_PATH empty (iBGP)" grep -Eq "BGP.as_path: *$" "$WORK/b.route"
own_route_absent_at_a() {
    birdc_a show route 198.51.100.0/24 protocol upstream >"$WORK/a.route" 2>&1
        grep -q "BIRD" "$WORK/a.route" && ! grep -q "198.51.100.0/24" "$WORK/a.route"
}
check "A does not get its own route back" own_route_absent_at_a

birdc_a disable originated >/dev/null
check "withdrawal reaches B" wait_for 30 no_route_at_b
echo "--- birdc show route 198.51.100.0/24 (at B, after the withdrawal)"
cat "$WORK/b.route2"
echo "---"

# Graceful restart (RFC 4724; BIRD is GR-aware by default, restart time 120 s):
# A announces again, then dies without a NOTIFICATION. rr keeps A's route
# (stale) instead of withdrawing it, so B keeps it; A comes back and the
# route is still there after its End-of-RIB.
birdc_a enable originated >/dev/null
check "B learns A's prefix again" wait_for 30 route_at_b
kill -9 "$BIRD_A"
wait "$BIRD_A" 2>/dev/null
check "rr keeps A's routes when A dies (graceful restart)" wait_for 10 grep -q "graceful restart" "$WORK/rr.log"
sleep 2
check "B keeps the route while A restarts" route_at_b
start_bird a
check "bird A restarted" wait_for 10 bird_up a
check "bird A established again" wait_for 30 established birdc_a
sleep 2
check "B still has the route after A's End-of-RIB" route_at_b

kill -TERM "$RR_PID"
rr_status=1
for _ in $(seq 1 300); do
    if ! kill -0 "$RR_PID" 2>/dev/null; then
        wait "$RR_PID"
        rr_status=$?
        break
    fi
    sleep 0.1
done
check "rr exits 0 on SIGTERM" test "$rr_status" -eq 0
check "rr sent Cease to both peers" test "$(grep -c 'NOTIFICATION sent 6/2' "$WORK/rr.log")" -eq 2

# Under a wrapper (valgrind), show its verdict on rr.
grep -E "ERROR SUMMARY|All heap blocks were freed|definitely lost" "$WORK/rr.log"
if [ "$failed" -ne 0 ]; then
    echo "--- rr.log"
    cat "$WORK/rr.log"
    for x in 10.0.0.1 10.0.0.2; do
        echo "--- bird $x log"
        tail -n 30 "$WORK/bird-$x.log" 2>/dev/null
    done
fi
echo "bird_interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
