# The sequence of `affine xen` steps the Xen system test runs twice: in dom0 of a
# real Xen, and on the simulated host; the outputs are then compared field by field
# (compare-xen.py). Sourced by busybox sh in the guest and by bash on the host.
#
# The caller defines:
#   aff ARGS...             run affine with the host selection (--host ...)
#   seq_create VCPUS MIB [NODE]   create a domain (vCPUs not allocated), explicit
#                           node affinity NODE when given, MIB MiB populated; print domid
#   seq_create_allocated VCPUS MIB [NODE]   the same with every vCPU allocated
#   seq_destroy DOMID
#   seq_pool_remove CPU / seq_pool_add CPU   take a CPU out of cpupool 0 / back
# and calls run_xen_sequence OUTDIR. Each step writes OUTDIR/NAME.out (stdout),
# NAME.err (stderr) and NAME.rc (exit status), and prints "STEP NAME rc=N ms=T".

_seq_now_ms() {
    # /proc/uptime has centiseconds; enough to see where a step's time goes.
    awk '{ printf "%d", $1 * 1000 }' /proc/uptime
}

# step NAME COMMAND...: run and record one step.
step() {
    _name=$1
    shift
    _t0=$(_seq_now_ms)
    _rc=0
    "$@" > "$SEQ_OUT/$_name.out" 2> "$SEQ_OUT/$_name.err" || _rc=$?
    echo "$_rc" > "$SEQ_OUT/$_name.rc"
    _t1=$(_seq_now_ms)
    echo "STEP $_name rc=$(cat "$SEQ_OUT/$_name.rc") ms=$((_t1 - _t0))"
}

run_xen_sequence() {
    SEQ_OUT=$1
    mkdir -p "$SEQ_OUT"
    step 01-topo aff xen topo --json
    step 02-show-initial aff xen show 0 --json
    # dom0's vCPUs: soft affinity node 1, hard all -> node affinity follows (auto).
    step 03-pin-soft-node1 aff xen vcpu-pin 0 all all node:1 --json
    step 04-show-soft-node1 aff xen show 0 --json
    # Explicit node affinity; later pinning must not touch it.
    step 05-node-explicit-0 aff xen node-affinity 0 0 --json
    step 06-pin-after-explicit aff xen vcpu-pin 0 all - all --json
    step 07-show-after-explicit aff xen show 0 --json
    step 08-pin-soft-node1-explicit aff xen vcpu-pin 0 all - node:1 --json
    # Every host node by number is still explicit (Xen tests all 64 bits; auto
    # would give node 1 here, so the two can be told apart) ...
    step 09-node-explicit-0-1 aff xen node-affinity 0 0-1 --json
    # ... `all` sends every node of the map: auto again, node 1 from the soft masks.
    step 10-node-all aff xen node-affinity 0 all --json
    step 11-pin-soft-all-auto aff xen vcpu-pin 0 all - all --json
    step 12-node-after-all aff xen node-affinity 0 --json
    # Refusals.
    step 13-refuse-offline-node aff xen node-affinity 0 2
    step 14-refuse-bad-vcpu aff xen vcpu-pin 0 9 all
    seq_pool_remove 3
    step 15-refuse-no-online-cpu aff xen vcpu-pin 0 0 3
    step 16-pin-outside-pool aff xen vcpu-pin 0 0 2-3 3 --json
    step 17-show-outside-pool aff xen show 0 --json
    step 18-pin-restore aff xen vcpu-pin 0 0 all all --json
    seq_pool_add 3
    step 19-show-restored aff xen show 0 --json
    # A second domain with node affinity node 1 gets its memory there.
    step 20-numastat-before aff xen numastat --json
    dom=$(seq_create 2 128 1)
    echo "$dom" > "$SEQ_OUT/created-domid.txt"
    step 21-domains aff xen domains --json
    step 22-show-new aff xen show "$dom" --json
    step 23-numastat-after aff xen numastat --json
    step 24-refuse-unallocated-vcpu aff xen vcpu-pin "$dom" 0 all
    # A domain created without node affinity: what a fresh domain reads.
    dom2=$(seq_create 1 0)
    step 25-show-fresh aff xen show "$dom2" --json
    seq_destroy "$dom2"
    seq_destroy "$dom"
    step 26-numastat-destroyed aff xen numastat --json
    step 27-pin-reset aff xen vcpu-pin 0 all all all --json
    # xen place: a domain with 2 allocated vCPUs whose 128M are on node 0 (explicit
    # node affinity); dom0's 4 vCPUs prefer node 0, so node 0 carries the load.
    dom3=$(seq_create_allocated 2 128 0)
    echo "$dom3" > "$SEQ_OUT/placed-domid.txt"
    step 28-pin-dom0-soft-node0 aff xen vcpu-pin 0 all all node:0 --json
    step 29-place-dry-run aff xen place "$dom3" --dry-run --json
    # best-effort: node 1 (less load): soft affinity to CPUs 2-3, hard all; the
    # explicit node affinity goes back to auto and follows to node 1.
    step 30-place aff xen place "$dom3" --json
    step 31-show-placed aff xen show "$dom3" --json
    # --follow-memory: node 0 holds its memory and wins over the load.
    step 32-place-follow-memory aff xen place "$dom3" --follow-memory --json
    step 33-place-hard aff xen place "$dom3" --policy best-effort-hard --json
    step 34-show-placed-hard aff xen show "$dom3" --json
    seq_destroy "$dom3"
    step 35-pin-reset-dom0 aff xen vcpu-pin 0 all all all --json
}
