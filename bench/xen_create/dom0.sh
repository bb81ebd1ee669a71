# dom0 side of bench/xen_create.sh (busybox sh, run by the guest's /init with
# the toolstack up): the same sequence of PV domains created once with plain
# `xl create` (libxl places them) and once with `affine xen create`, on a
# 4-node host with unequal free memory. After each sequence, per domain: where
# its memory is (the NUMA dump through xl debug-keys u), its vCPU masks (xl
# vcpu-list); per node: free memory (xl info -n) and the vCPUs preferring it.
# Prints BENCH-DOMAIN and BENCH-NODE lines for the host to tabulate.

NCPUS=$(xl info | awk '/^nr_cpus/ {print $3}')
# cpu -> node, from xl info -n's cpu_topology.
CPU_NODES=$(xl info -n | awk '/^cpu_topology/ {f = 1; next} f && /^ *[0-9]+:/ {sub(":", "", $1); printf "%s:%s ", $1, $4} /^numa_info/ {f = 0}')

mkcfg() { # NAME VCPUS MIB [LINE]
    {
        echo "name = \"$1\""
        echo 'type = "pv"'
        echo 'kernel = "/guest/vmlinux.gz"'
        echo 'ramdisk = "/guest/initrd.gz"'
        echo 'extra = "console=hvc0 quiet"'
        echo "vcpus = $2"
        echo "memory = $3"
        [ -n "${4:-}" ] && echo "$4"
    } > "/tmp/$1.cfg"
}

# free MiB per node, "n:free ..."
node_free() {
    xl info -n | awk '/^numa_info/ {f = 1; next} f && /^ *[0-9]+:/ {sub(":", "", $1); printf "%s:%s ", $1, $3}'
}

# pages per node of every domain: lines "domid node pages"
numa_dump() {
    xl dmesg -c > /dev/null
    xl debug-keys u
    xl dmesg | tr -d '\r' | awk '
        /Memory location of each domain/ { inside = 1; next }
        inside && /\(total/ { d = $0; sub(/.*(Domain |d)/, "", d); sub(/ .*/, "", d); next }
        inside && /Node [0-9]+:/ { n = $(NF-1); sub(":", "", n); print d, n, $NF }'
}

# expand a CPU list ("all", "0-2,3") to "0 1 2 3"
expand() {
    [ "$1" = all ] && { seq -s' ' 0 $((NCPUS - 1)); return; }
    echo "$1" | tr ',' '\n' | awk -F- 'NF == 1 {printf "%d ", $1} NF == 2 {for (i = $1; i <= $2; i++) printf "%d ", i}'
}

# The sequence. BIG does not fit on any one node (the largest free + 64 MiB).
BIG=$(node_free | tr ' ' '\n' | awk -F: 'NF == 2 && $2 > m {m = $2} END {print m + 64}')
SEQUENCE="web1:1:256: web2:1:256: pin0:1:128:cpus=\"0\" big:1:$BIG: db:2:256: web3:1:256:"

run() { # PLACER
    placer=$1
    for spec in $SEQUENCE; do
        name=$(echo "$spec" | cut -d: -f1)
        vcpus=$(echo "$spec" | cut -d: -f2)
        mib=$(echo "$spec" | cut -d: -f3)
        extra=$(echo "$spec" | cut -d: -f4-)
        mkcfg "$name" "$vcpus" "$mib" "$extra"
        if [ "$placer" = xl ]; then
            xl create "/tmp/$name.cfg" > "/tmp/$placer-$name.log" 2>&1
        else
            affine xen create "/tmp/$name.cfg" > "/tmp/$placer-$name.log" 2>&1
        fi
        rc=$?
        echo "BENCH-CREATE $placer $name rc=$rc t=$(cut -d' ' -f1 /proc/uptime) free $(node_free)"
        # affine's plan and read-back on the console, to tell a plan from where Xen put the pages
        [ "$rc" = 0 ] && [ "$placer" = xl ] || sed 's/^/  | /' "/tmp/$placer-$name.log"
    done
    numa_dump > /tmp/dump.txt
    for spec in $SEQUENCE; do
        name=$(echo "$spec" | cut -d: -f1)
        mib=$(echo "$spec" | cut -d: -f3)
        d=$(xl domid "$name" 2> /dev/null) || { echo "BENCH-DOMAIN $placer $name - - - - - - -"; continue; }
        # preferred CPUs of each vCPU: soft ∩ hard (hard when that is empty)
        xl vcpu-list "$name" | awk 'NR > 1 {print $(NF-2), $NF}' > /tmp/masks.txt
        pref_nodes=""
        hard_all=""
        soft_all=""
        while read -r h s; do
            hard_all=$h
            soft_all=$s
            hs=$(expand "$h")
            ss=$(expand "$s")
            p=$(for c in $ss; do case " $hs " in *" $c "*) echo "$c" ;; esac; done)
            [ -n "$p" ] || p=$hs
            for c in $p; do
                n=$(echo "$CPU_NODES" | tr ' ' '\n' | awk -F: -v c="$c" '$1 == c {print $2}')
                case " $pref_nodes " in *" $n "*) ;; *) pref_nodes="$pref_nodes $n" ;; esac
            done
        done < /tmp/masks.txt
        mem=$(awk -v d="$d" '$1 == d && $3 > 0 {printf "%s%s:%dM", s++ ? "," : "", $2, $3 / 256}' /tmp/dump.txt)
        total=$(awk -v d="$d" '$1 == d {t += $3} END {print t + 0}' /tmp/dump.txt)
        on_pref=$(awk -v d="$d" -v p="$pref_nodes" 'BEGIN {split(p, a, " "); for (i in a) want[a[i]] = 1}
            $1 == d && ($2 in want) {t += $3} END {print t + 0}' /tmp/dump.txt)
        spanned=$(awk -v d="$d" -v t="$total" '$1 == d && $3 * 100 > t {n++} END {print n + 0}' /tmp/dump.txt)
        share=$(awk -v a="$on_pref" -v t="$total" 'BEGIN {printf "%.0f", t ? 100 * a / t : 0}')
        pref=$(echo $pref_nodes | tr ' ' ,)
        echo "BENCH-DOMAIN $placer $name $(echo "$spec" | cut -d: -f2) $mib $hard_all $soft_all $pref $spanned $share $mem"
    done
    # per node: free memory and the vCPUs preferring it (a vCPU preferring k
    # nodes counts 1/k on each)
    xl vcpu-list | awk 'NR > 1 && $1 != "Domain-0" {print $(NF-2), $NF}' > /tmp/all.txt
    loads=$(while read -r h s; do
        hs=$(expand "$h")
        ss=$(expand "$s")
        p=$(for c in $ss; do case " $hs " in *" $c "*) echo "$c" ;; esac; done)
        [ -n "$p" ] || p=$hs
        ns=$(for c in $p; do echo "$CPU_NODES" | tr ' ' '\n' | awk -F: -v c="$c" '$1 == c {print $2}'; done | sort -u)
        k=$(echo "$ns" | wc -l)
        for n in $ns; do echo "$n $k"; done
    done < /tmp/all.txt | awk '{v[$1] += 1 / $2} END {for (n in v) printf "%s:%.2f ", n, v[n]}')
    for nf in $(node_free); do
        n=${nf%%:*}
        v=$(echo "$loads" | tr ' ' '\n' | awk -F: -v n="$n" '$1 == n {print $2}')
        echo "BENCH-NODE $placer $n ${nf#*:} ${v:-0}"
    done
    for spec in $SEQUENCE; do xl destroy "$(echo "$spec" | cut -d: -f1)" 2> /dev/null; done
    sleep 2
}

echo "BENCH-START free $(node_free)"
run xl
echo "BENCH-BETWEEN free $(node_free)"
run affine
echo "BENCH-END free $(node_free)"

# A domain larger than any node, alone on the host, three ways: plain xl create
# (libxl places it), affine's node-set plan striped (--striped), preferred node
# first (affine's default). Per way: seconds until the whole memory is in, the
# memory per node, the nodes its vCPU prefers, the share on them and the
# memory-weighted mean distance from them (distances from xl info -n).
DIST=$(xl info -n | awk '/^numa_info/ {f = 1; next} f && /^ *[0-9]+:/ {sub(":", "", $1); printf "%s=%s;", $1, $4}')
LARGE=$(node_free | tr ' ' '\n' | awk -F: 'NF == 2 && $2 > m {m = $2} END {print m + 200}')
for way in xl striped preferred; do
    mkcfg large 1 "$LARGE"
    t0=$(cut -d' ' -f1 /proc/uptime)
    case $way in
    xl) xl create /tmp/large.cfg > "/tmp/large-$way.log" 2>&1 ;;
    striped) affine xen create --striped /tmp/large.cfg > "/tmp/large-$way.log" 2>&1 ;;
    *) affine xen create --populate-timeout 300 /tmp/large.cfg > "/tmp/large-$way.log" 2>&1 ;;
    esac
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    sed 's/^/  | /' "/tmp/large-$way.log"
    d=$(xl domid large 2> /dev/null) || { echo "BENCH-LARGE $way rc=$rc - - - - -"; continue; }
    numa_dump > /tmp/dump.txt
    read -r h s <<EOF2
$(xl vcpu-list large | awk 'NR == 2 {print $(NF-2), $NF}')
EOF2
    hs=$(expand "$h")
    ss=$(expand "$s")
    p=$(for c in $ss; do case " $hs " in *" $c "*) echo "$c" ;; esac; done)
    [ -n "$p" ] || p=$hs
    pref=$(for c in $p; do echo "$CPU_NODES" | tr ' ' '\n' | awk -F: -v c="$c" '$1 == c {print $2}'; done | sort -u | tr '\n' ' ')
    mem=$(awk -v d="$d" '$1 == d && $3 > 0 {printf "%s%s:%dM", s++ ? "," : "", $2, $3 / 256}' /tmp/dump.txt)
    figures=$(awk -v d="$d" -v pref="$pref" -v dist="$DIST" 'BEGIN {
            np = split(pref, P, " "); for (i in P) want[P[i]] = 1
            nr = split(dist, R, ";"); for (i = 1; i <= nr; i++) if (split(R[i], f, "=") == 2) row[f[1]] = f[2] }
        $1 == d { pages[$2] = $3; t += $3; if ($2 in want) on += $3 }
        END { for (i = 1; i <= np; i++) { split(row[P[i]], dd, ","); for (n in pages) w += pages[n] * dd[n + 1] / np }
              printf "%.0f %.2f", t ? 100 * on / t : 0, t ? w / t : 0 }' /tmp/dump.txt)
    echo "BENCH-LARGE $way rc=$rc $(echo "$t1 $t0" | awk '{printf "%.1f", $1 - $2}') $LARGE $(echo $pref | tr ' ' ,) $figures $mem"
    xl destroy large
    sleep 2
done
pass bench-ran
