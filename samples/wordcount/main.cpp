// Map-reduce word count. The input is cut into chunks at word boundaries;
// mappers count the words of each chunk and send the partial counts to one
// reducer actor, which owns the totals (no locks: one message at a time).
// The result is checked against a plain single-threaded count.
//
//   wordcount [--mappers N] [--mapper threads|processes|both] [--top K]
//             [--chunk-kb K] [--repeat R] [PATH...]      (CLI11; --help)
//
// With no PATH it counts the public-domain corpus shipped in
// samples/wordcount/corpus/.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <troupe/troupe.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "mapper.hpp"

namespace fs = std::filesystem;
using wordcount::counts;

namespace {

struct options {
  unsigned mappers = 0;  // 0: the pool's worker count
  std::string mapper = "both";
  unsigned top = 10;
  unsigned chunk_kb = 1;
  unsigned repeat = 32;
  std::vector<std::string> paths;
};

// Thrown for an input that cannot be read; main prints it and exits with
// status 2.
struct usage_error {
  std::string text;
};

// Binds the command line to `o` (CLI11; samples/common/cli.hpp runs it).
void describe(CLI::App& app, options& o) {
  app.description(
      "Counts words with map-reduce: mappers count chunks of the input, one reducer\n"
      "actor adds up their partial counts; the result is checked against a plain\n"
      "single-threaded count (a mismatch exits with status 1).");
  app.add_option("PATH", o.paths,
                 "a text file or a directory (its *.txt files); without one, the corpus\n"
                 "shipped with the sample (samples/wordcount/corpus) is counted");
  app.add_option("--mappers", o.mappers, "mapper count (default: the pool's worker count)")
      ->check(CLI::Range(1U, 256U));
  app.add_option("--mapper", o.mapper,
                 "mapper backend: threads (tasks on the actor system's pool), processes\n"
                 "(a process_pool of worker processes), or both, one after the other")
      ->check(CLI::IsMember({"threads", "processes", "both"}))
      ->capture_default_str();
  app.add_option("--top", o.top, "how many of the most frequent words to print")
      ->check(CLI::Range(1U, 1000U))
      ->capture_default_str();
  app.add_option("--chunk-kb", o.chunk_kb, "chunk size in KiB")
      ->check(CLI::Range(1U, 65536U))
      ->capture_default_str();
  app.add_option("--repeat", o.repeat, "count the input R times over, to make it bigger")
      ->check(CLI::Range(1U, 100000U))
      ->capture_default_str();
  app.footer(
      "The built-in corpus is small: at the default sizes, handing out 192 chunks of\n"
      "1 KiB and adding up their partial counts costs about as much as counting, so\n"
      "map-reduce is not faster than the plain count. With bigger chunks and more\n"
      "input (--chunk-kb 256 --repeat 5000) the mappers do the work and it scales.");
}

struct input_file {
  std::string name;
  std::string text;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw usage_error{"cannot read '" + p.string() + "'"};
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

std::vector<input_file> load_inputs(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  auto add_dir = [&](const fs::path& dir) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_regular_file() && e.path().extension() == ".txt") found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) throw usage_error{"no *.txt files in '" + dir.string() + "'"};
    files.insert(files.end(), found.begin(), found.end());
  };
  if (paths.empty()) {
    fs::path dir = fs::path(TROUPE_SAMPLE_SOURCE_DIR) / "corpus";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) dir = "corpus";
    if (!fs::is_directory(dir, ec)) {
      throw usage_error{"the built-in corpus is missing (" + dir.string() + "); give a PATH"};
    }
    add_dir(dir);
  } else {
    for (const auto& s : paths) {
      std::error_code ec;
      const fs::path p(s);
      if (fs::is_directory(p, ec)) {
        add_dir(p);
      } else if (fs::is_regular_file(p, ec)) {
        files.push_back(p);
      } else {
        throw usage_error{"PATH: no such file or directory: '" + s + "'"};
      }
    }
  }
  std::vector<input_file> out;
  for (const auto& f : files) out.push_back({f.filename().string(), read_file(f)});
  return out;
}

// Cuts `text` into chunks of about `size` bytes, each ending at a
// separator so no word is split.
void cut(const std::string& text, std::size_t size, std::vector<std::string>& out) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(pos + size, text.size());
    while (end < text.size() && wordcount::is_word_char(text[end])) ++end;
    out.emplace_back(text, pos, end - pos);
    pos = end;
  }
}

std::string with_commas(std::uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  // The processes backend re-executes this program as its workers: in a
  // worker, this runs the worker's side and returns its exit status.
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;

  options opt;
  CLI::App app{"", "wordcount"};
  describe(app, opt);
  if (auto rc = sample_cli::parse(app, argc, argv)) return *rc;
  std::vector<input_file> inputs;
  try {
    inputs = load_inputs(opt.paths);
  } catch (const usage_error& e) {
    std::cerr << "wordcount: " << e.text << "\n(run with --help for usage)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "wordcount: " << e.what() << '\n';
    return 2;
  }

  // Each file, repeated, is cut into chunks (a newline between repeats, so no
  // word is joined across them).
  std::size_t bytes = 0;
  std::vector<std::string> chunks;
  for (const auto& f : inputs) {
    bytes += f.text.size();
    std::string text;
    text.reserve((f.text.size() + 1) * opt.repeat);
    for (unsigned r = 0; r < opt.repeat; ++r) {
      text += f.text;
      text += '\n';
    }
    cut(text, std::size_t{opt.chunk_kb} * 1024, chunks);
  }
  const std::size_t nchunks = chunks.size();
  const std::vector<std::string> kinds = opt.mapper == "both"
                                             ? std::vector<std::string>{"threads", "processes"}
                                             : std::vector<std::string>{opt.mapper};

  troupe::system sys;
  const unsigned mappers = opt.mappers != 0 ? opt.mappers : sys.workers();
  std::cout << "wordcount: " << inputs.size() << " files, " << with_commas(bytes) << " bytes, x"
            << opt.repeat << " = " << with_commas(std::uint64_t{bytes} * opt.repeat) << " bytes in "
            << nchunks << " chunks; " << mappers << " mappers\n";

  // The plain count, on this thread over the whole text: the reference.
  const auto t1 = std::chrono::steady_clock::now();
  counts expect;
  for (unsigned r = 0; r < opt.repeat; ++r) {
    for (const auto& f : inputs) wordcount::count_into(f.text, expect);
  }
  const double t_seq = seconds_since(t1);

  // Map-reduce with each backend.
  struct run {
    std::string kind;
    counts total;
    double secs = 0;
  };
  std::vector<run> runs;
  for (const auto& kind : kinds) {
    std::cout << "map-reduce: " << kind << '\n';
    std::unique_ptr<wordcount::mapper_backend> backend;
    troupe::promise<counts> done;
    auto result = done.get_future();
    try {
      // Timed from here: the worker processes' start-up is not counted.
      backend = wordcount::make_backend(kind, sys, mappers);
      const auto t0 = std::chrono::steady_clock::now();
      auto reducer =
          sys.spawn<wordcount::reducer>(nchunks, isatty(STDOUT_FILENO) == 1, std::move(done));
      backend->run(chunks, reducer);  // a copy: each backend gets the same chunks
      runs.push_back({kind, result.get(), seconds_since(t0)});
    } catch (const std::exception& e) {
      std::cout << "map-reduce with " << kind << " failed: " << e.what() << '\n';
      return 1;
    }
  }

  const counts& total = runs.front().total;
  std::uint64_t words = 0;
  for (const auto& [w, n] : total) words += n;
  std::vector<std::pair<std::string, std::uint64_t>> top(total.begin(), total.end());
  const std::size_t k = std::min<std::size_t>(opt.top, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(),
                    [](const auto& a, const auto& b) {
                      return a.second != b.second ? a.second > b.second : a.first < b.first;
                    });

  std::cout << "\ntop " << k << " words:\n";
  std::printf("  %4s  %-14s %10s\n", "rank", "word", "count");
  for (std::size_t i = 0; i < k; ++i) {
    std::printf("  %4zu  %-14s %10llu\n", i + 1, top[i].first.c_str(),
                static_cast<unsigned long long>(top[i].second));
  }
  std::cout << "\nsummary:\n";
  std::printf("  %-34s %12s\n", "words", with_commas(words).c_str());
  std::printf("  %-34s %12s\n", "distinct words", with_commas(total.size()).c_str());
  std::printf("  %-34s %12zu\n", "chunks", nchunks);
  for (const auto& r : runs) {
    std::printf("  %-34s %12.3f s\n",
                ("map-reduce, " + std::to_string(mappers) + " mappers, " + r.kind).c_str(), r.secs);
  }
  std::printf("  %-34s %12.3f s\n", "plain single-threaded count", t_seq);
  bool slower = false;
  for (const auto& r : runs) {
    const double speedup = r.secs > 0 ? t_seq / r.secs : 0;
    std::printf("  %-34s %11.2fx\n", ("speed-up, " + r.kind).c_str(), speedup);
    slower = slower || speedup < 1;
  }
  if (slower) {
    std::cout << "\nwhy map-reduce is slower here: " << with_commas(bytes * opt.repeat)
              << " bytes is only milliseconds of counting;\nhanding out " << nchunks
              << " chunks and adding up their partial counts costs about as much\n(the"
              << " processes backend also copies each chunk to a worker and its counts back).\n"
              << "More input in bigger chunks pays for it: try --chunk-kb 256 --repeat 5000.\n";
  }
  std::cout.flush();

  bool ok = true;
  for (const auto& r : runs) {
    if (r.total == expect) {
      std::cout << "check (" << r.kind << "): map-reduce equals the single-threaded count ("
                << with_commas(words) << " words, " << with_commas(total.size()) << " distinct)\n";
    } else {
      ok = false;
      std::cout << "check (" << r.kind << "): MISMATCH: map-reduce found " << r.total.size()
                << " distinct words, the single-threaded count " << expect.size() << '\n';
    }
  }
  const auto report = sys.shutdown();
  if (!report.clean()) std::cout << "shutdown: " << report.to_string() << '\n';
  return ok ? 0 : 1;
}
