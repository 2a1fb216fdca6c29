#pragma once
// robots.txt for the crawler sample: the Allow and Disallow lines of the
// groups for "User-agent: *" and for the crawler's own name, matched the
// RFC 9309 way (the longest matching rule decides, Allow wins a tie; '*'
// matches any run of characters and a final '$' the end of the path).
//
// Unlike RFC 9309, which takes only the most specific group, the rules of
// both groups apply: every Disallow line for * and for troupe-crawler is
// obeyed.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crawl {

class robots_rules {
 public:
  struct rule {
    std::string pattern;
    bool allow = false;
  };

  /// No rules: everything is allowed.
  robots_rules() = default;
  /// The rules of the robots.txt `text` that apply to "*" and to `agent` (a
  /// product token, "troupe-crawler"; compared ignoring case).
  static robots_rules parse(std::string_view text, std::string_view agent);
  /// Everything disallowed (a robots.txt that could not be read, RFC 9309).
  static robots_rules disallow_all();

  /// Whether `path` (the path and query of a URL, "/a/b?c") may be fetched.
  [[nodiscard]] bool allowed(std::string_view path) const;
  [[nodiscard]] const std::vector<rule>& rules() const noexcept { return rules_; }

 private:
  std::vector<rule> rules_;
};

}  // namespace crawl
