#include "journal.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../core/json.hpp"
#include "affine/set_grammar.hpp"
#include "state/state_file.hpp"

namespace affine::daemon {

using detail::Json;

namespace {

constexpr int journal_version = 1;

CpuSet cpus_at(const Json& j, const char* key) {
    auto set = parse_id_list(j.at(key).get<std::string>());
    if (!set) throw std::runtime_error(fmt::format("bad CPU list in \"{}\"", key));
    return *set;
}

}  // namespace

std::string format_journal(const Journal& journal) {
    Json j;
    j["version"] = journal_version;
    Json workloads = Json::array();
    for (const auto& w : journal.workloads) {
        Json threads = Json::array();
        for (const auto& t : w.threads) {
            Json jt{{"tid", t.tid},
                    {"start_time", t.start_time},
                    {"original", to_list(t.original)},
                    {"hard", to_list(t.hard)},
                    {"applied", to_list(t.applied)}};
            if (t.previous) jt["previous"] = to_list(*t.previous);
            threads.push_back(std::move(jt));
        }
        workloads.push_back({{"pid", w.pid},
                             {"start_time", w.start_time},
                             {"command", w.command},
                             {"uid", w.uid},
                             {"soft", to_list(w.soft)},
                             {"all_threads", w.all_threads},
                             {"children", w.children},
                             {"named_tids", w.named_tids},
                             {"origin", w.origin},
                             {"since", w.since},
                             {"requester_uid", w.requester_uid},
                             {"requester_cap_sys_nice", w.requester_cap_sys_nice},
                             {"threads", std::move(threads)}});
    }
    j["workloads"] = std::move(workloads);
    return detail::dump_never_throwing(j, 1) + "\n";
}

Result<Journal> parse_journal(std::string_view text, const std::string& path) {
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded()) return failure(fmt::format("{} is not a whole journal (not JSON; truncated?)", path));
    try {
        if (j.at("version").get<int>() != journal_version)
            return failure(fmt::format("{} has journal version {}, this daemon reads version {}", path,
                                       detail::dump_never_throwing(j.at("version")), journal_version));
        Journal journal;
        for (const auto& jw : j.at("workloads")) {
            JournalWorkload w;
            w.pid = jw.at("pid").get<int>();
            w.start_time = jw.at("start_time").get<unsigned long long>();
            w.command = jw.value("command", "");
            w.uid = jw.at("uid").get<unsigned>();
            w.soft = cpus_at(jw, "soft");
            w.all_threads = jw.at("all_threads").get<bool>();
            w.children = jw.value("children", false);
            w.named_tids = jw.value("named_tids", std::vector<int>{});
            w.origin = jw.value("origin", "");
            w.since = jw.value("since", 0.0);
            w.requester_uid = jw.at("requester_uid").get<unsigned>();
            w.requester_cap_sys_nice = jw.at("requester_cap_sys_nice").get<bool>();
            for (const auto& jt : jw.at("threads")) {
                JournalThread t;
                t.tid = jt.at("tid").get<int>();
                t.start_time = jt.at("start_time").get<unsigned long long>();
                t.original = cpus_at(jt, "original");
                t.hard = cpus_at(jt, "hard");
                t.applied = cpus_at(jt, "applied");
                if (jt.contains("previous")) t.previous = cpus_at(jt, "previous");
                if (t.tid <= 0 || t.original.empty() || t.applied.empty())
                    throw std::runtime_error(fmt::format("thread {} has no mask", t.tid));
                w.threads.push_back(std::move(t));
            }
            if (w.pid <= 0) throw std::runtime_error("a workload has no pid");
            journal.workloads.push_back(std::move(w));
        }
        return journal;
    } catch (const std::exception& e) {
        return failure(fmt::format("{} is not a whole journal: {}", path, e.what()));
    }
}

Result<void> JournalFile::save(const Journal& journal) const {
    auto file = StateFile::lock(path_, LockWait::wait);
    if (!file) return std::unexpected(file.error());
    return file->write(format_journal(journal));
}

Result<JournalFile::Loaded> JournalFile::load() const {
    Loaded loaded;
    auto file = StateFile::lock(path_, LockWait::wait);
    if (!file) return std::unexpected(file.error());
    // A save interrupted before its rename leaves a temporary: the journal itself is
    // still the previous whole one.
    if (auto removed = file->remove_leftover_temporaries(); !removed) return std::unexpected(removed.error());
    auto text = file->read();
    if (!text) return std::unexpected(text.error());
    if (!*text) return loaded;
    auto journal = parse_journal(**text, path_);
    if (!journal) {
        std::string aside = path_ + ".bad";
        if (::rename(path_.c_str(), aside.c_str()) != 0)
            return failure(fmt::format("{}; and it could not be moved aside: {}", journal.error().message,
                                       std::strerror(errno)),
                           errno);
        loaded.set_aside = fmt::format("{}; moved aside to {}", journal.error().message, aside);
        return loaded;
    }
    loaded.journal = std::move(*journal);
    return loaded;
}

}  // namespace affine::daemon
