# affine's Linux commands in a guest with a memory-less node and an offline CPU:
# nodes 0-2 have CPUs 0-1, 2-3, 4-5; node 1 has no memory; CPU 3 is taken
# offline first. Sourced by the guest's /init.
. /lib/linux-common.sh

cpu_offline 3
check_file_eq cpu3-offline /sys/devices/system/cpu/online 0-2,4-5
check_contains topo-memless "$(affine topo)" "(no memory)"

sleep 600 &
s=$!
# --- offline CPU: refused with the online CPUs, by every command
check_status pin-offline 1 affine pin 3 "$s"
check_contains pin-offline-says "$out" "CPU 3 is offline (online: 0-2,4-5)"
check_status pin-offline-mixed 1 affine pin 2-3 "$s"
check_status run-offline 1 affine run --cpus 3 -- true
check_contains run-offline-says "$out" "CPU 3 is offline"
check_status bind-offline-only 1 affine bind "$s" 0x8
check_contains bind-offline-only-says "$out" "names only offline CPUs 3"
check_status bind-offline-part 0 affine bind "$s" 0xc
check_eq bind-offline-part-status 2 "$(cpus_allowed "$s")"
check_contains bind-offline-part-note "$out" "CPU 3 of the mask is offline"
check_status shield-offline 1 affine shield 3
check_status pin-online-rest 0 affine pin 0-2,4-5 "$s"
check_eq pin-online-rest-status 0-2,4-5 "$(cpus_allowed "$s")"

# --- memory-less node: refused for bind, preferred, interleave and migrate
check_status run-bind-memless 2 affine run --nodes 1 --mem-policy bind -- true
check_contains run-bind-memless-says "$out" "node 1 has no memory"
check_status run-preferred-memless 2 affine run --nodes 1 --mem-policy preferred -- true
check_status run-interleave-memless 2 affine run --nodes 0-2 --mem-policy interleave -- true
check_status run-bind-cpus-of-memless 2 affine run --cpus 2 --mem-policy bind -- true
check_contains run-bind-cpus-of-memless-says "$out" "have none; give --nodes"
check_status migrate-memless 2 affine migrate "$s" 1
check_contains migrate-memless-says "$out" "node 1 has no memory"

# --- CPUs of a memory-less node with memory following the CPUs: it runs there,
# and its memory comes from a node that has memory
start_touch 16 --cpus 2
check_eq run-memless-cpus 2 "$(cpus_allowed "$toucher")"
n0=$(mapping_pages_on "$toucher" 0)
n2=$(mapping_pages_on "$toucher" 2)
if [ $((n0 + n2)) -ge 4096 ]; then pass run-memless-pages-elsewhere; else fail run-memless-pages-elsewhere "node 0: $n0, node 2: $n2 pages"; fi
check_status show-memless 0 affine show "$toucher"
check_contains show-memless-says "$out" "affinity 2"
kill "$toucher"

# --- preferred over several nodes, and bind to the nodes with memory
start_touch 16 --nodes 0,2 --mem-policy preferred
check_contains run-preferred-many "$(big_mapping "$toucher")" "0,2"
kill "$toucher"
start_touch 16 --nodes 2 --mem-policy bind
check_pages run-bind-node2 "$toucher" 2 4096
# migrate back to node 0 while CPU 3 is offline
check_status migrate-to-node0 0 affine migrate "$toucher" 0
check_pages migrate-to-node0-pages "$toucher" 0 4096
kill "$toucher"

# --- --all-threads with the offline CPU around
many_threads 50 > /tmp/many &
many=$!
wait_for /tmp/many ready || fail many-threads-start "$(cat /tmp/many)"
check_status pin-all-threads 0 affine pin --all-threads 4-5 "$many"
check_contains pin-all-threads-count "$out" "51 threads pinned to CPUs 4-5"
check_eq pin-all-threads-none-stale "" "$(stale_threads "$many" 4-5)"

# --- shield a CPU while one is offline; undo restores
before=$(user_masks)
check_status shield-runs 0 affine shield 5
check_eq shield-init 0-2,4 "$(cpus_allowed 1)"
check_eq shield-many-threads "" "$(stale_threads "$many" 4)"
check_status shield-undo 0 affine shield --undo
check_contains shield-undo-offline-note "$out" "without CPU 3, offline now"
# Masks that held the offline CPU 3 come back without it (the kernel drops it);
# everything else exactly.
check_eq shield-undo-restores-all "" "$(changed_masks "$before" | grep -v -- '->0-2,4-5$')"
kill "$many" "$s"
cpu_online 3
