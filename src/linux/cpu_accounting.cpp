#include "cpu_accounting.hpp"

namespace affine::linux_backend {

Result<CpuTimes> read_cpu_times(const SysFs& fs) {
    auto text = fs.read("/proc/stat");
    if (!text) return failure("cannot read /proc/stat (the CPU load per node)");
    auto times = parse_cpu_times(*text);
    if (!times) return failure(times.error().message);
    return times;
}

CpuRunDelays read_cpu_run_delays(const SysFs& fs) {
    auto text = fs.read("/proc/schedstat");
    return text ? parse_cpu_run_delays(*text) : CpuRunDelays{};
}

}  // namespace affine::linux_backend
