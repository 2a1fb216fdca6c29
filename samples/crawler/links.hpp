#pragma once
// Links out of an HTML page for the crawler sample: a small tag scanner, not
// an HTML parser, but one that copes with what real pages hold (either
// quote, unquoted values, upper case, comments, scripts, entities).
#include <string>
#include <string_view>
#include <vector>

namespace crawl {

/// The href of every <a> and <area> tag of `html`, in order, with character
/// references decoded (&amp; ...). Comments and the contents of <script> and
/// <style> are skipped. If `base` is given it gets the href of the first
/// <base> tag ("" if there is none).
std::vector<std::string> extract_links(std::string_view html, std::string* base = nullptr);

}  // namespace crawl
