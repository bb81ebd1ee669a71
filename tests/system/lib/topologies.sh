# Part of tests/system/lib.sh (sourced by it, not on its own): the guests' NUMA topologies as QEMU options.

# All topologies, for listing and documentation.
topology_list() {
    echo numa2 numa2x1 numa4 numa4big memless sparse dies hmat
}

# topology_describe TOPOLOGY: one line of what the guest sees.
topology_describe() {
    case $1 in
    numa2) echo "2 nodes x 2 CPUs (2 sockets), 512M each, distance 21" ;;
    numa2x1) echo "2 nodes x 1 CPU (2 sockets), 512M each, distance 21" ;;
    numa4) echo "4 nodes, CPUs 0-1/2-3/4-5/none (3 sockets), 256M each, asymmetric distances" ;;
    numa4big) echo "as numa4 with 768M a node (room for numad's 300 MB workloads)" ;;
    memless) echo "3 nodes, CPUs 0-1/2-3/4-5 (3 sockets), 512M/0/512M: node 1 has CPUs but no memory" ;;
    sparse) echo "nodes possible 0-2, online 0 and 2: node 0 CPUs 0-1 + 512M, node 2 512M without CPUs; CPUs 2-5 possible, not present" ;;
    dies) echo "2 sockets x 2 dies x 1 core x 2 threads = CPUs 0-7, one L3 per die, a node per socket, 512M each" ;;
    hmat) echo "HMAT: node 0 CPUs 0-1 + 512M (10 ns, 10 GB/s); node 1 512M without CPUs (40 ns, 2 GB/s) behind a 16M memory-side cache; distance 20" ;;
    *) return 1 ;;
    esac
}

# _affine_topology_args TOPOLOGY: fill the array _affine_qemu_topo with the
# QEMU options of a topology. This is the one table of topologies.
#
# Distances are given for both directions of every pair where they are
# asymmetric (QEMU then requires all pairs); one direction is enough for a
# symmetric pair.
_affine_topology_args() {
    local t=$1
    _affine_qemu_topo=()
    _mem() { _affine_qemu_topo+=(-object "memory-backend-ram,id=m$1,size=$2"); }
    _node() { _affine_qemu_topo+=(-numa "node,nodeid=$1${2:+,cpus=$2}${3:+,memdev=$3}"); }
    _dist() { _affine_qemu_topo+=(-numa "dist,src=$1,dst=$2,val=$3"); }
    case $t in
    numa2)
        # node 0: CPUs 0-1, 512M | node 1: CPUs 2-3, 512M
        _affine_qemu_topo+=(-m 1024 -smp 4,sockets=2,cores=2,threads=1)
        _mem 0 512M; _node 0 0-1 m0
        _mem 1 512M; _node 1 2-3 m1
        _dist 0 1 21
        ;;
    numa2x1)
        # node 0: CPU 0, 512M | node 1: CPU 1, 512M (the soft-affinity guest:
        # a busy preferred CPU and one idle neighbour)
        _affine_qemu_topo+=(-m 1024 -smp 2,sockets=2,cores=1,threads=1)
        _mem 0 512M; _node 0 0 m0
        _mem 1 512M; _node 1 1 m1
        _dist 0 1 21
        ;;
    numa4 | numa4big)
        # node 0: CPUs 0-1 | node 1: CPUs 2-3 | node 2: CPUs 4-5 |
        # node 3: memory only; 256M each (numa4big: 768M each). Asymmetric distance matrix
        # (row = from, column = to):
        #        0  1  2  3
        #   0   10 21 31 41
        #   1   22 10 21 31
        #   2   32 22 10 21
        #   3   42 32 22 10
        local per=256
        [ "$t" = numa4 ] || per=768
        _affine_qemu_topo+=(-m $((4 * per)) -smp 6,sockets=3,cores=2,threads=1)
        _mem 0 ${per}M; _node 0 0-1 m0
        _mem 1 ${per}M; _node 1 2-3 m1
        _mem 2 ${per}M; _node 2 4-5 m2
        _mem 3 ${per}M; _node 3 "" m3
        _dist 0 1 21; _dist 0 2 31; _dist 0 3 41
        _dist 1 0 22; _dist 1 2 21; _dist 1 3 31
        _dist 2 0 32; _dist 2 1 22; _dist 2 3 21
        _dist 3 0 42; _dist 3 1 32; _dist 3 2 22
        ;;
    memless)
        # node 0: CPUs 0-1, 512M | node 1: CPUs 2-3, no memory |
        # node 2: CPUs 4-5, 512M. Distances 0-1 21, 0-2 31, 1-2 21.
        _affine_qemu_topo+=(-m 1024 -smp 6,sockets=3,cores=2,threads=1)
        _mem 0 512M; _node 0 0-1 m0
        _node 1 2-3 ""
        _mem 2 512M; _node 2 4-5 m2
        _dist 0 1 21; _dist 0 2 31; _dist 1 2 21
        ;;
    sparse)
        # Linux numbers nodes in the order it meets their proximity domains
        # in the SRAT (CPUs by APIC id first, then memory ranges), not by
        # the domain numbers: a domain without CPUs and memory is not in
        # the SRAT at all and the ids stay dense. What leaves a hole is a
        # domain whose only CPUs are possible but not present (hotpluggable,
        # beyond -smp's initial count): Linux makes it a possible node but
        # does not bring it online, while a later domain with memory does
        # come online.
        #   node 0: CPUs 0-1 (socket 0), 512M
        #   node 1: possible, offline: CPUs 2-3 (socket 1) possible only
        #   node 2: 512M, no CPUs: CPUs 4-5 (socket 2) possible only
        # so nodes possible 0-2, online 0,2; CPUs possible 0-5, present and
        # online 0-1. Distances 0-1 21, 0-2 31, 1-2 21.
        # Node 2 cannot have present CPUs: a present CPU after a
        # not-present one (a hole in the APIC ids, e.g. cold-plugged with
        # -device) hangs the guest under TCG (IPIs to it are lost).
        _affine_qemu_topo+=(-m 1024 -smp 2,sockets=3,cores=2,threads=1,maxcpus=6)
        _mem 0 512M; _node 0 0-1 m0
        _node 1 2-3 ""
        _mem 2 512M; _node 2 4-5 m2
        _dist 0 1 21; _dist 0 2 31; _dist 1 2 21
        ;;
    dies)
        # SMT, several dies per package and split L3s. Linux reads dies from
        # CPUID leaf 0x1f, which it consults on Intel CPUs only, hence the
        # vendor (QEMU's -cpu max is otherwise AMD-like under TCG and warns that
        # it has no hyperthreading); QEMU 7.2 describes one L3 per die in leaf 4,
        # so Linux shows two L3s per package (cpu*/cache/index3) and die_id 0-1
        # in each. A core per die keeps the guest at 8 vCPUs (TCG).
        #   node 0: socket 0, CPUs 0-3, 512M | node 1: socket 1, CPUs 4-7, 512M
        _affine_qemu_topo+=(-cpu max,vendor=GenuineIntel -m 1024 -smp 8,sockets=2,dies=2,cores=1,threads=2)
        _mem 0 512M; _node 0 0-3 m0
        _mem 1 512M; _node 1 4-7 m1
        _dist 0 1 21
        ;;
    hmat)
        # Tiered memory described in ACPI HMAT (QEMU needs q35 and hmat=on):
        #   node 0: CPUs 0-1 (2 sockets), 512M: 10 ns, 10G bandwidth
        #   node 1: 512M, no CPUs, initiator node 0: 40 ns, 2G bandwidth, behind
        #   a level-1 memory-side cache of 16M (direct-mapped, write-back, 64 B
        #   lines). Distance 20. Linux shows the bandwidths in MB/s (10240, 2048).
        _affine_qemu_topo+=(-machine q35,hmat=on -m 1024 -smp 2,sockets=2,maxcpus=2)
        _mem 0 512M; _mem 1 512M
        _affine_qemu_topo+=(-numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1,initiator=0
            -numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=0,socket-id=1)
        _dist 0 1 20
        local lb=hierarchy=memory
        _affine_qemu_topo+=(
            -numa "hmat-lb,initiator=0,target=0,$lb,data-type=access-latency,latency=10"
            -numa "hmat-lb,initiator=0,target=0,$lb,data-type=access-bandwidth,bandwidth=10G"
            -numa "hmat-lb,initiator=0,target=1,$lb,data-type=access-latency,latency=40"
            -numa "hmat-lb,initiator=0,target=1,$lb,data-type=access-bandwidth,bandwidth=2G"
            -numa hmat-cache,node-id=1,size=16M,level=1,associativity=direct,policy=write-back,line=64)
        ;;
    *)
        unset -f _mem _node _dist
        _affine_die "unknown topology '$t' (known: $(topology_list))" ;;
    esac
    unset -f _mem _node _dist
}
