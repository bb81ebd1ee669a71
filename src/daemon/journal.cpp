#include "journal.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "core/json.hpp"
#include "core/safe_text.hpp"
#include "affine/set_grammar.hpp"
#include "state/state_file.hpp"

namespace affine::daemon {

using detail::Json;

namespace {

constexpr int journal_version = 1;
constexpr std::int64_t max_task_id = 0x3fffffff;
constexpr std::int64_t max_uid = 0xffffffff;
constexpr std::int64_t max_ticks = std::numeric_limits<std::int64_t>::max();

// The journal is read field by field (JsonReader): whatever the file holds, no
// exception escapes, and a problem names the field.
class JournalReader {
public:
    explicit JournalReader(const std::string& path) : r_(path) {}

    Result<Journal> journal(const Json& j) const {
        auto version = r_.integer(j, "version", "journal", 0);
        if (!version) return std::unexpected(version.error());
        if (*version != journal_version)
            return r_.bad("version", fmt::format("journal version {}, this daemon reads version {}", *version,
                                                 journal_version));
        auto workloads = r_.array(j, "workloads", "journal");
        if (!workloads) return std::unexpected(workloads.error());
        Journal journal;
        for (std::size_t i = 0; i < (*workloads)->size(); ++i) {
            auto w = workload((**workloads)[i], fmt::format("workloads[{}]", i));
            if (!w) return std::unexpected(w.error());
            journal.workloads.push_back(std::move(*w));
        }
        return journal;
    }

private:
    Result<CpuSet> cpus(const Json& obj, const char* key, const std::string& where) const {
        auto text = r_.string(obj, key, where);
        if (!text) return std::unexpected(text.error());
        auto set = parse_id_list(*text);
        if (!set) return r_.bad(where + "." + key, fmt::format("\"{}\" is not a CPU list", *text));
        return *set;
    }

    Result<JournalThread> thread(const Json& jt, const std::string& where) const {
        JournalThread t;
        auto tid = r_.integer(jt, "tid", where, 1, max_task_id);
        auto start = r_.integer(jt, "start_time", where, 0, max_ticks);
        auto original = cpus(jt, "original", where);
        auto hard = cpus(jt, "hard", where);
        auto applied = cpus(jt, "applied", where);
        for (const Error* e : {tid ? nullptr : &tid.error(), start ? nullptr : &start.error(),
                               original ? nullptr : &original.error(), hard ? nullptr : &hard.error(),
                               applied ? nullptr : &applied.error()})
            if (e != nullptr) return std::unexpected(*e);
        t.tid = static_cast<int>(*tid);
        t.start_time = static_cast<unsigned long long>(*start);
        t.original = *original;
        t.hard = *hard;
        t.applied = *applied;
        if (jt.contains("previous")) {
            auto previous = cpus(jt, "previous", where);
            if (!previous) return std::unexpected(previous.error());
            t.previous = *previous;
        }
        if (t.original.empty() || t.applied.empty()) return r_.bad(where, fmt::format("thread {} has no mask", t.tid));
        return t;
    }

    Result<JournalWorkload> workload(const Json& jw, const std::string& where) const {
        JournalWorkload w;
        auto pid = r_.integer(jw, "pid", where, 1, max_task_id);
        auto start = r_.integer(jw, "start_time", where, 0, max_ticks);
        auto command = r_.string(jw, "command", where, "");
        auto uid = r_.integer(jw, "uid", where, 0, max_uid);
        auto soft = cpus(jw, "soft", where);
        auto all = r_.boolean(jw, "all_threads", where);
        auto children = r_.boolean(jw, "children", where, false);
        auto origin = r_.string(jw, "origin", where, "");
        auto requester = r_.integer(jw, "requester_uid", where, 0, max_uid);
        auto nice = r_.boolean(jw, "requester_cap_sys_nice", where);
        auto threads = r_.array(jw, "threads", where);
        for (const Error* e : {pid ? nullptr : &pid.error(), start ? nullptr : &start.error(),
                               command ? nullptr : &command.error(), uid ? nullptr : &uid.error(),
                               soft ? nullptr : &soft.error(), all ? nullptr : &all.error(),
                               children ? nullptr : &children.error(), origin ? nullptr : &origin.error(),
                               requester ? nullptr : &requester.error(), nice ? nullptr : &nice.error(),
                               threads ? nullptr : &threads.error()})
            if (e != nullptr) return std::unexpected(*e);
        w.pid = static_cast<int>(*pid);
        w.start_time = static_cast<unsigned long long>(*start);
        w.command = detail::safe_text(*command);
        w.uid = static_cast<unsigned>(*uid);
        w.soft = *soft;
        w.all_threads = *all;
        w.children = *children;
        w.origin = detail::safe_text(*origin);
        w.requester_uid = static_cast<unsigned>(*requester);
        w.requester_cap_sys_nice = *nice;
        if (jw.contains("since")) {
            if (!jw.at("since").is_number()) return r_.bad(where + ".since", "expected a number");
            w.since = jw.at("since").get<double>();
        }
        if (jw.contains("named_tids")) {
            const Json& named = jw.at("named_tids");
            if (!named.is_array()) return r_.bad(where + ".named_tids", "expected an array of thread ids");
            for (std::size_t i = 0; i < named.size(); ++i) {
                auto tid = r_.integer_value(named[i], fmt::format("{}.named_tids[{}]", where, i), 1, max_task_id);
                if (!tid) return std::unexpected(tid.error());
                w.named.insert(static_cast<int>(*tid));
            }
        }
        for (std::size_t i = 0; i < (*threads)->size(); ++i) {
            auto t = thread((**threads)[i], fmt::format("{}.threads[{}]", where, i));
            if (!t) return std::unexpected(t.error());
            w.threads.push_back(std::move(*t));
        }
        // Absent from journals written before releases were kept.
        auto released = r_.array_or_empty(jw, "released", where);
        if (!released) return std::unexpected(released.error());
        for (std::size_t i = 0; i < (*released)->size(); ++i) {
            const Json& jr = (**released)[i];
            std::string at = fmt::format("{}.released[{}]", where, i);
            auto tid = r_.integer(jr, "tid", at, 1, max_task_id);
            if (!tid) return std::unexpected(tid.error());
            auto released_start = r_.integer(jr, "start_time", at, 0, max_ticks);
            if (!released_start) return std::unexpected(released_start.error());
            w.released.push_back({static_cast<int>(*tid), static_cast<unsigned long long>(*released_start)});
        }
        return w;
    }

    detail::JsonReader r_;
};

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
        Json released = Json::array();
        for (const auto& r : w.released) released.push_back({{"tid", r.tid}, {"start_time", r.start_time}});
        workloads.push_back({{"pid", w.pid},
                             {"start_time", w.start_time},
                             {"command", w.command},
                             {"uid", w.uid},
                             {"soft", to_list(w.soft)},
                             {"all_threads", w.all_threads},
                             {"children", w.children},
                             {"named_tids", w.named},
                             {"origin", w.origin},
                             {"since", w.since},
                             {"requester_uid", w.requester_uid},
                             {"requester_cap_sys_nice", w.requester_cap_sys_nice},
                             {"threads", std::move(threads)},
                             {"released", std::move(released)}});
    }
    j["workloads"] = std::move(workloads);
    return detail::dump_never_throwing(j, 1) + "\n";
}

Result<Journal> parse_journal(std::string_view text, const std::string& path) {
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded()) return failure(fmt::format("{} is not a whole journal (not JSON; truncated?)", path));
    auto journal = JournalReader(path).journal(j);
    if (!journal) return failure(fmt::format("{} is not a whole journal ({})", path, journal.error().message));
    return journal;
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
