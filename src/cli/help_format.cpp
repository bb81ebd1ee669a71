#include "help_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace affine::cli {
namespace {

// What an option's value is, said as the help of the tools it replaces says it.
std::string value_name(const CLI::Option* opt) {
    // A fixed set of values (CLI::IsMember): "list|hex|kernel".
    std::string type = opt->get_type_name();
    if (auto open = type.find(":{"); open != std::string::npos) {
        std::string members = type.substr(open + 2, type.rfind('}') - open - 2);
        std::ranges::replace(members, ',', '|');
        return members;
    }
    static const std::vector<std::pair<std::string_view, std::string_view>> known = {
        {"--host", "SPEC"},      {"--memory", "SIZE"},       {"--vcpus", "N"},       {"--exclude", "CPUS"},
        {"--soft", "CPUS"},      {"--mem-policy", "MODE"},   {"--config", "FILE"},   {"--state-dir", "DIR"},
        {"--state", "FILE"},     {"--requests", "FILE"},     {"--policy", "POLICY"},
    };
    std::string name = opt->get_name(false, false);
    if (auto comma = name.rfind(','); comma != std::string::npos) name.erase(0, comma + 1);
    for (auto [option, value] : known)
        if (name == option) return std::string(value);
    std::string upper;
    for (char c : std::string_view(name).substr(name.find_first_not_of('-')))
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return upper;
}

// A flag's default value in braces ("--json{compact}") is CLI11's notation, not a name.
std::string without_default(std::string name) {
    for (auto open = name.find('{'); open != std::string::npos; open = name.find('{')) {
        auto close = name.find('}', open);
        if (close == std::string::npos) break;
        name.erase(open, close - open + 1);
    }
    return name;
}

}  // namespace

std::string HelpFormatter::make_usage(const CLI::App* app, std::string name) const {
    if (usage_.empty()) return CLI::Formatter::make_usage(app, std::move(name));
    std::string out;
    std::string_view lines = usage_;
    std::string_view label = "Usage: ";
    while (!lines.empty()) {
        auto end = lines.find('\n');
        out += fmt::format("{}affine {}\n", label, lines.substr(0, end));
        label = "       ";
        lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    }
    return out;
}

std::string HelpFormatter::make_option_name(const CLI::Option* opt, bool is_positional) const {
    return without_default(CLI::Formatter::make_option_name(opt, is_positional));
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
    if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
    if (opt->get_positional()) {
        std::string more = opt->get_expected_max() > 1 ? "..." : "";
        return opt->get_required() ? more + " (required)" : more;
    }
    if (opt->get_type_size() == 0 || opt->get_expected_min() == 0) {
        // A flag with a checked value: --json[=compact|pretty].
        std::string type = opt->get_type_name();
        if (type.find(":{") != std::string::npos) return "[=" + value_name(opt) + "]";
        return {};
    }
    return " " + value_name(opt);
}

void set_usage(CLI::App& sub, std::string usage) { sub.formatter(std::make_shared<HelpFormatter>(std::move(usage))); }

std::optional<std::string> closest_name(std::string_view word, const std::vector<std::string>& candidates) {
    // Optimal string alignment distance: insertions, deletions, substitutions and
    // swaps of neighbours ("tpoo" -> "topo" is one).
    auto distance = [](std::string_view a, std::string_view b) {
        std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
        for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
        for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
        for (std::size_t i = 1; i <= a.size(); ++i)
            for (std::size_t j = 1; j <= b.size(); ++j) {
                std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        return d[a.size()][b.size()];
    };
    std::string_view letters = word.substr(std::min(word.find_first_not_of('-'), word.size()));
    std::optional<std::string> best;
    std::size_t best_distance = 3;
    for (const std::string& c : candidates) {
        std::size_t dist = distance(word, c);
        if (dist < best_distance && 2 * dist < letters.size()) {
            best = c;
            best_distance = dist;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    auto best = closest_name(word, candidates);
    return best ? fmt::format(" (did you mean {}?)", *best) : std::string();
}

}  // namespace affine::cli
