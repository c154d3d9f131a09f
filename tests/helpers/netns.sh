# shellcheck shell=bash
# netns.sh - hosts on one network for zetl's multi-host tests, made of network namespaces
#
# Sourced after testenv.sh, and used after testenv_init:
#
#     netns_init                          # skip (77) unless root and the kernel makes namespaces
#     netns_add coord 10.77.0.1           # a host: its own namespace, eth0 10.77.0.1/24 on the switch
#     netns_exec coord CMD...             # run CMD on that host
#     netns_start NAME coord CMD...       # testenv_start NAME, on that host
#     netns_add_loss w1 1                 # nftables on w1: drop 1 % of eth0's packets, each way
#     netns_cut w1; ...; netns_restore w1 # unplug w1's cable at the switch, plug it back
#
# Each host is a namespace NETNS_PREFIX-HOST (NETNS_PREFIX holds the test's pid, so tests can
# run side by side) with lo and one veth, eth0, whose other end is a port of the bridge br0 in
# the switch namespace NETNS_PREFIX-switch. Nothing is made in the root namespace. netns_init
# takes over the EXIT trap: whatever runs in the namespaces is stopped and every namespace made
# is removed, then testenv's cleanup runs (the rest, PostgreSQL, the work dir), whatever the
# outcome.

NETNS_PREFIX=zetl-$$
NETNS_SWITCH=$NETNS_PREFIX-switch
NETNS_MADE=()
declare -A NETNS_ADDR_OF=()

#  Check that this test can make namespaces (root, ip, a kernel that allows it; else skip with
#  why), make the switch, and arrange removal on exit. Call after testenv_init.
netns_init () {
    [ -n "${TESTENV_DIR:-}" ] || testenv_fail "call testenv_init before netns_init"
    [ "$(id -u)" = 0 ] || testenv_skip "network namespaces need root (ip netns add); run as root"
    command -v ip >/dev/null 2>&1 || testenv_skip "ip is missing; apt-get install iproute2"
    trap netns_exit EXIT
    netns_sweep
    ip netns add "$NETNS_SWITCH" 2>"$TESTENV_DIR/netns.err" \
        || testenv_skip "the kernel refuses network namespaces (ip netns add): $(cat "$TESTENV_DIR/netns.err")"
    NETNS_MADE+=("$NETNS_SWITCH")
    ip -n "$NETNS_SWITCH" link set lo up
    ip -n "$NETNS_SWITCH" link add br0 type bridge 2>"$TESTENV_DIR/netns.err" \
        || testenv_skip "the kernel refuses a bridge (ip link add type bridge): $(cat "$TESTENV_DIR/netns.err")"
    ip -n "$NETNS_SWITCH" link set br0 up
}

#  Remove the namespaces a test killed outright (no EXIT trap) left behind: those named for a
#  pid that is gone, with nothing running in them.
netns_sweep () {
    local ns pid
    while read -r ns _; do
        [[ $ns =~ ^zetl-([0-9]+)- ]] || continue
        pid=${BASH_REMATCH[1]}
        if ! kill -0 "$pid" 2>/dev/null && [ -z "$(ip netns pids "$ns" 2>/dev/null)" ]; then
            ip netns del "$ns" 2>/dev/null && echo "netns: removed $ns, left by a test that was killed" >&2
        fi
    done < <(ip netns list 2>/dev/null)
}

#  The EXIT trap: the namespaces go first (with what runs in them), then testenv's cleanup.
netns_exit () {
    local rc=$?
    set +e
    netns_cleanup
    (exit "$rc")
    testenv_cleanup
}

#  Every process in the namespaces made.
netns_pids () {
    local ns
    for ns in "${NETNS_MADE[@]}"; do
        ip netns pids "$ns" 2>/dev/null
    done
}

#  Stop whatever runs in the namespaces made, then remove them (removing the switch removes
#  every veth pair). First the processes whose parent runs elsewhere (what the test started,
#  and a PostgreSQL whose children follow it), TERM then KILL after 10 s; then any left.
netns_cleanup () {
    local pid ns all leaders=() left=()
    all=" $(netns_pids | tr '\n' ' ') "
    for pid in $all; do
        [[ $all == *" $(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ') "* ]] || leaders+=("$pid")
    done
    testenv_terminate "${leaders[@]}"
    # shellcheck disable=SC2207
    left=($(netns_pids))
    if [ ${#left[@]} -gt 0 ]; then
        echo "netns: stopping ${left[*]}: still running in the test's namespaces" >&2
        testenv_terminate "${left[@]}"
    fi
    for ns in "${NETNS_MADE[@]}"; do
        ip netns del "$ns" 2>/dev/null || echo "netns: cannot remove namespace $ns" >&2
    done
    NETNS_MADE=()
}

#  Set NETNS_NS to the namespace of HOST, or fail the test.
netns_ns () {
    [ -n "${NETNS_ADDR_OF[$1]:-}" ] || testenv_fail "netns: no host '$1' (netns_add it first)"
    NETNS_NS=$NETNS_PREFIX-$1
}

#  netns_add HOST ADDR: a host named HOST (letters, digits, at most 12) at ADDR/24 on the switch.
netns_add () {
    local host=$1 addr=$2 ns=$NETNS_PREFIX-$1
    [[ $host =~ ^[a-z0-9]{1,12}$ ]] \
        || testenv_fail "netns_add: host name '$host': use 1 to 12 lowercase letters and digits"
    [[ $addr =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] \
        || testenv_fail "netns_add: '$addr' is not an IPv4 address"
    [ ${#NETNS_MADE[@]} -gt 0 ] || testenv_fail "netns_add: call netns_init first"
    ip netns add "$ns" || testenv_fail "netns_add: ip netns add $ns failed"
    NETNS_MADE+=("$ns")
    NETNS_ADDR_OF[$host]=$addr
    ip -n "$ns" link set lo up
    ip -n "$NETNS_SWITCH" link add "v-$host" type veth peer name eth0 netns "$ns" \
        || testenv_fail "netns_add: cannot make a veth pair for $host"
    ip -n "$NETNS_SWITCH" link set "v-$host" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
}

#  The address of HOST.
netns_addr () {
    netns_ns "$1"
    echo "${NETNS_ADDR_OF[$1]}"
}

#  netns_exec HOST CMD...: run CMD on HOST.
netns_exec () {
    netns_ns "$1"
    shift
    ip netns exec "$NETNS_NS" "$@"
}

#  netns_start NAME HOST CMD...: testenv_start NAME with CMD running on HOST.
netns_start () {
    local name=$1
    netns_ns "$2"
    shift 2
    testenv_start "$name" ip netns exec "$NETNS_NS" "$@"
}

#  netns_reaches HOST ADDR [SECONDS]: ADDR answers HOST's TCP SYN to a closed port (9) within
#  SECONDS (default 3: TCP sends its SYN again after 1 s, should a lossy link drop it). The
#  answer is a reset, so the probe leaves no connection in anyone's logs.
netns_reaches () {
    local out
    out=$(netns_exec "$1" timeout "${3:-3}" bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) && return 0
    [[ $out == *"Connection refused"* ]]
}

#  netns_cut HOST: take HOST's port on the switch down (as if its cable were pulled: HOST's
#  packets vanish, no reset). netns_restore HOST: bring it back.
netns_cut () {
    netns_ns "$1"
    ip -n "$NETNS_SWITCH" link set "v-$1" down || testenv_fail "netns_cut: cannot take v-$1 down"
}

netns_restore () {
    netns_ns "$1"
    ip -n "$NETNS_SWITCH" link set "v-$1" up || testenv_fail "netns_restore: cannot bring v-$1 up"
}

#  netns_add_loss HOST PERCENT: drop PERCENT % (1..99, at random) of the packets HOST's eth0
#  sends and of those it receives (nftables table inet zetl, counted). Skips when nft is missing
#  or the kernel has no nf_tables.
netns_add_loss () {
    local host=$1 percent=$2 hook
    [[ $percent =~ ^[0-9]+$ ]] && [ "$percent" -ge 1 ] && [ "$percent" -le 99 ] \
        || testenv_fail "netns_add_loss: '$percent': give a whole percentage, 1..99"
    command -v nft >/dev/null 2>&1 || testenv_skip "nft is missing (packet loss); apt-get install nftables"
    netns_exec "$host" nft add table inet zetl 2>"$TESTENV_DIR/netns.err" \
        || testenv_skip "the kernel refuses nftables (nft add table): $(cat "$TESTENV_DIR/netns.err")"
    for hook in input output; do
        netns_exec "$host" nft add chain inet zetl "$hook" "{ type filter hook $hook priority 0; policy accept; }" \
            || testenv_fail "netns_add_loss: cannot add the $hook chain on $host"
    done
    netns_exec "$host" nft add rule inet zetl input iifname eth0 counter \
        && netns_exec "$host" nft add rule inet zetl input iifname eth0 numgen random mod 100 "<" "$percent" counter drop \
        && netns_exec "$host" nft add rule inet zetl output oifname eth0 counter \
        && netns_exec "$host" nft add rule inet zetl output oifname eth0 numgen random mod 100 "<" "$percent" counter drop \
        || testenv_fail "netns_add_loss: cannot add the loss rules on $host"
}

#  netns_dropped HOST: packets dropped so far by netns_add_loss's rules on HOST, both ways.
#  netns_packets HOST: packets seen by them (dropped or not). A packet is as the hooks see it:
#  one TCP segment may carry up to 64 KiB (segmentation offload).
netns_dropped () {
    netns__count "$1" '/ drop$/'
}

netns_packets () {
    netns__count "$1" '/counter/ && !/ drop$/'
}

netns__count () {
    netns_exec "$1" nft list table inet zetl | awk "$2"' {
            for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) }
        END { print n + 0 }'
}
