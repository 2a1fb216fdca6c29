#include "robots.hpp"

#include <cctype>

namespace crawl {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Whether `pattern` matches the start of `path` ('*': any run; a final '$':
// the end of the path).
bool matches(std::string_view pattern, std::string_view path) {
  const bool anchored = pattern.ends_with('$');
  if (anchored) pattern.remove_suffix(1);
  std::vector<std::string_view> parts;
  for (std::size_t from = 0;;) {
    const auto star = pattern.find('*', from);
    parts.push_back(pattern.substr(from, star - from));
    if (star == std::string_view::npos) break;
    from = star + 1;
  }
  if (parts.size() == 1) return anchored ? path == parts[0] : path.starts_with(parts[0]);
  if (!path.starts_with(parts[0])) return false;
  std::size_t pos = parts[0].size();
  for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
    const auto at = path.find(parts[i], pos);
    if (at == std::string_view::npos) return false;
    pos = at + parts[i].size();
  }
  const std::string_view last = parts.back();
  if (!anchored) return path.find(last, pos) != std::string_view::npos;
  return path.size() >= pos + last.size() && path.ends_with(last);
}

}  // namespace

robots_rules robots_rules::parse(std::string_view text, std::string_view agent) {
  const std::string me = lower(agent);
  robots_rules r;
  bool applies = false;    // the current group is for * or for us
  bool in_agents = false;  // the last line was a User-agent line
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    line = trim(line.substr(0, line.find('#')));
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string key = lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (key == "user-agent") {
      if (!in_agents) applies = false;  // a new group starts
      in_agents = true;
      // "troupe-crawler/1.0" names the product token "troupe-crawler".
      const std::string name = lower(value.substr(0, value.find_first_of("/ \t")));
      if (name == "*" || name == me) applies = true;
    } else if (key == "allow" || key == "disallow") {
      in_agents = false;
      // "Disallow:" with no path allows everything: no rule.
      if (applies && !value.empty()) r.rules_.push_back({std::string(value), key == "allow"});
    }  // Sitemap:, Crawl-delay: ... are ignored
  }
  return r;
}

robots_rules robots_rules::disallow_all() {
  robots_rules r;
  r.rules_.push_back({"/", false});
  return r;
}

bool robots_rules::allowed(std::string_view path) const {
  if (path == "/robots.txt") return true;
  const rule* best = nullptr;
  for (const rule& r : rules_) {
    if (!matches(r.pattern, path)) continue;
    if (best == nullptr || r.pattern.size() > best->pattern.size() ||
        (r.pattern.size() == best->pattern.size() && r.allow)) {
      best = &r;
    }
  }
  return best == nullptr || best->allow;
}

}  // namespace crawl
