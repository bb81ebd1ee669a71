// libxenstore is loaded with dlopen, as libxenctrl is (xenctrl_backend.cpp): the
// binary runs unchanged without Xen, and only a domain name needs xenstored.
#include "domain_names.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#if AFFINE_HAVE_XENSTORE_H
#include <xenstore.h>
#endif

namespace affine::xen {

#if AFFINE_HAVE_XENSTORE_H
namespace {

// libxenstore.so.4 is the soname of the headers' ABI (Xen 4.x).
constexpr const char* library_name = "libxenstore.so.4";

struct XenstoreApi {
    decltype(&::xs_open) open = nullptr;
    decltype(&::xs_close) close = nullptr;
    decltype(&::xs_directory) directory = nullptr;
    decltype(&::xs_read) read = nullptr;
};

Result<XenstoreApi> load_xenstore() {
    // Kept loaded for the life of the process: a command reads names a few times.
    static void* handle = dlopen(library_name, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
        return failure(fmt::format("domain names need xenstore: cannot load {} (install libxenstore4)", library_name));
    XenstoreApi api;
    api.open = reinterpret_cast<decltype(api.open)>(dlsym(handle, "xs_open"));
    api.close = reinterpret_cast<decltype(api.close)>(dlsym(handle, "xs_close"));
    api.directory = reinterpret_cast<decltype(api.directory)>(dlsym(handle, "xs_directory"));
    api.read = reinterpret_cast<decltype(api.read)>(dlsym(handle, "xs_read"));
    if (api.open == nullptr || api.close == nullptr || api.directory == nullptr || api.read == nullptr)
        return failure(fmt::format("{} lacks xs_open, xs_close, xs_directory or xs_read", library_name));
    return api;
}

}  // namespace

Result<std::map<int, std::string>> read_xenstore_domain_names() {
    auto api = load_xenstore();
    if (!api) return std::unexpected(api.error());
    // The socket only: without xenstored, the fallback (the xenbus device) would
    // wait for an answer that never comes.
    xs_handle* xs = api->open(XS_OPEN_READONLY | XS_OPEN_SOCKETONLY);
    if (xs == nullptr) {
        int code = errno;
        return failure(fmt::format("domain names need xenstore: cannot connect to xenstored ({})", std::strerror(code)),
                       code);
    }
    std::map<int, std::string> names;
    unsigned count = 0;
    char** entries = api->directory(xs, XBT_NULL, "/local/domain", &count);
    for (unsigned i = 0; entries != nullptr && i < count; ++i) {
        int domid = -1;
        std::string_view entry = entries[i];
        auto [ptr, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), domid);
        if (ec != std::errc{} || ptr != entry.data() + entry.size()) continue;
        unsigned len = 0;
        std::string path = fmt::format("/local/domain/{}/name", domid);
        if (void* value = api->read(xs, XBT_NULL, path.c_str(), &len)) {
            names[domid] = std::string(static_cast<const char*>(value), len);
            std::free(value);
        }
    }
    std::free(static_cast<void*>(entries));
    api->close(xs);
    return names;
}

#else

Result<std::map<int, std::string>> read_xenstore_domain_names() {
    return failure("domain names need xenstore: this affine was built without the xenstore headers (libxen-dev)");
}

#endif

Result<std::map<int, std::string>> Hypervisor::domain_names() { return read_xenstore_domain_names(); }

Result<int> resolve_domain(Hypervisor& hv, std::string_view text) {
    const bool digits = !text.empty() && std::ranges::all_of(text, [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    if (digits) {
        int v = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || ptr != text.data() + text.size() || v > 0x7fef)
            return usage_error(fmt::format("bad domain \"{}\": expected a domid (0-32751) or a domain's name", text));
        return v;
    }
    if (text.empty()) return usage_error("bad domain \"\": expected a domid (0-32751) or a domain's name");
    auto names = hv.domain_names();
    if (!names) return std::unexpected(names.error());
    std::vector<std::string> known;
    for (const auto& [domid, name] : *names) {
        if (name == text) return domid;
        known.push_back(name);
    }
    return failure(fmt::format("no domain is named \"{}\" (domains: {})", text,
                               known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))),
                   ESRCH);
}

}  // namespace affine::xen
