// A CPU-bound image pipeline: decode -> transform (blur, resize, grayscale)
// -> encode, each stage a group of tasks on the actor system's pool joined
// by bounded channels (back-pressure: a fast stage waits for a slow one, no
// queue grows without bound). It runs at 1 worker and at N workers, prints
// images/s and the speed-up, and checks every output checksum against a
// single-threaded reference (a mismatch exits with status 1).
//
// Writing the results (--out DIR) is blocking file I/O, so it is done by a
// detached actor (a thread of its own), never on a pool worker.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <troupe/troupe.hpp>
#include <utility>
#include <vector>

#include "image.hpp"

namespace fs = std::filesystem;
using namespace imgpipe;

namespace {

constexpr const char* kUsage = R"(usage: image_pipeline [options]

Runs images through decode -> blur, resize, grayscale -> encode, each stage
a group of tasks on troupe's pool joined by bounded channels; first on 1
worker, then on N; prints images/s and the speed-up, and checks every
output against a single-threaded reference (a mismatch exits with status 1).

options:
  --images N       synthetic images to make, 1..10000 (default 32)
  --size S         side of a synthetic image in pixels, 16..4096 (default 256)
  --input DIR      read the binary PPM (P6, maxval 255) files *.ppm in DIR
                   instead of making synthetic images
  --workers N      pool workers of the parallel run, 1..256 (default: the
                   hardware threads)
  --blur-passes P  3x3 box blur passes, 0..16 (default 2)
  --out DIR        write the results there as PGM files (the parallel run
                   only; DIR must exist)
  -h, --help       this text
)";

struct options {
  unsigned images = 32;
  unsigned size = 256;
  std::string input;
  unsigned workers = 0;
  unsigned blur_passes = 2;
  std::string out;
};

struct usage_error {
  std::string text;
};

unsigned parse_uint(std::string_view name, std::string_view text, unsigned lo, unsigned hi) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) {
    throw usage_error{std::string(name) + ": expected an integer from " + std::to_string(lo) +
                      " to " + std::to_string(hi) + ", got '" + std::string(text) + "'"};
  }
  return v;
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    std::string_view name = a;
    std::string_view value;
    bool has_value = false;
    if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    auto next = [&]() -> std::string_view {
      if (has_value) return value;
      if (i + 1 >= argc) throw usage_error{std::string(name) + ": missing value"};
      return argv[++i];
    };
    if (name == "--images") {
      o.images = parse_uint(name, next(), 1, 10000);
    } else if (name == "--size") {
      o.size = parse_uint(name, next(), 16, 4096);
    } else if (name == "--input") {
      o.input = std::string(next());
      if (!fs::is_directory(o.input))
        throw usage_error{"--input: not a directory: '" + o.input + "'"};
    } else if (name == "--workers") {
      o.workers = parse_uint(name, next(), 1, 256);
    } else if (name == "--blur-passes") {
      o.blur_passes = parse_uint(name, next(), 0, 16);
    } else if (name == "--out") {
      o.out = std::string(next());
      if (!fs::is_directory(o.out)) throw usage_error{"--out: not a directory: '" + o.out + "'"};
    } else {
      throw usage_error{"unknown argument '" + std::string(a) + "'"};
    }
  }
  return o;
}

std::vector<std::string> load_ppm_dir(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".ppm") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw usage_error{"--input: no *.ppm files in '" + dir + "'"};
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string bytes = std::move(ss).str();
    if (std::string why = check_ppm(bytes); !why.empty()) {
      throw usage_error{"--input: " + f.string() + ": " + why};
    }
    out.push_back(std::move(bytes));
  }
  return out;
}

// ---- the pipeline -----------------------------------------------------------------------

struct job {  // an encoded input image
  std::size_t index;
  std::string_view bytes;
};
struct frame {  // a decoded or transformed image
  std::size_t index;
  image img;
};
struct result {  // an encoded output image
  std::size_t index;
  std::uint64_t sum;
};

struct write_file {
  fs::path path;
  std::string bytes;
};
struct flush {};

// Writes files on a thread of its own (spawned detached): blocking I/O stays
// off the pool.
class writer : public troupe::actor<writer> {
 public:
  void on(write_file w) {
    std::ofstream(w.path, std::ios::binary)
        .write(w.bytes.data(), static_cast<std::streamsize>(w.bytes.size()));
    ++written_;
  }
  std::size_t on(flush /*unused*/) const { return written_; }

 private:
  std::size_t written_ = 0;
};

// Starts `n` tasks that each take values from `in`, apply `fn` and send the
// result to `out`. The tasks own the only senders of `out`, so when the
// last of them ends (`in` closed and drained) `out` closes: the end of the
// input flows down the pipeline with no end marker.
template <class In, class Out, class F>
void stage(troupe::system& sys, unsigned n, const troupe::receiver<In>& in,
           const troupe::sender<Out>& out, F fn) {
  for (unsigned i = 0; i < n; ++i) {
    sys.go([in, out, fn]() -> troupe::task<> {
         while (auto v = co_await in.recv()) co_await out.send(fn(std::move(*v)));
       })
        .detach();
  }
}

struct run_result {
  double seconds = 0;
  std::vector<std::uint64_t> sums;
};

run_result run_pipeline(unsigned workers, const std::vector<std::string>& inputs, int blur_passes,
                        const std::string& out_dir, bool tty) {
  troupe::system sys(troupe::system_config{workers});
  troupe::ref<writer> files;
  if (!out_dir.empty()) files = sys.spawn<writer>(troupe::detached);

  const auto t0 = std::chrono::steady_clock::now();
  constexpr std::size_t kDepth = 4;  // images buffered between two stages
  auto [jobs_tx, jobs_rx] = troupe::make_channel<job>(kDepth);
  auto [decoded_tx, decoded_rx] = troupe::make_channel<frame>(kDepth);
  auto [shaped_tx, shaped_rx] = troupe::make_channel<frame>(kDepth);
  auto [done_tx, done_rx] = troupe::make_channel<result>(kDepth);

  stage(sys, workers, jobs_rx, decoded_tx, [](job j) { return frame{j.index, decode(j.bytes)}; });
  stage(sys, workers, decoded_rx, shaped_tx, [blur_passes](frame f) {
    return frame{f.index, grayscale(half(blur(std::move(f.img), blur_passes)))};
  });
  stage(sys, workers, shaped_rx, done_tx, [files, out_dir](frame f) {
    std::string bytes = encode(f.img);
    const result r{f.index, checksum(bytes)};
    if (files) {
      char name[32];
      std::snprintf(name, sizeof name, "image_%04zu.pgm", f.index);
      files.send(write_file{fs::path(out_dir) / name, std::move(bytes)});
    }
    return r;
  });
  // Only the stages hold senders now (the receivers they were given are
  // copies), so each channel closes when its producing stage is done.
  decoded_tx = {};
  shaped_tx = {};
  done_tx = {};
  // The source: a task feeding the encoded inputs in.
  sys.go([tx = std::move(jobs_tx), &inputs]() -> troupe::task<> {
       for (std::size_t i = 0; i < inputs.size(); ++i) co_await tx.send(job{i, inputs[i]});
       tx.close();
     })
      .detach();
  jobs_rx = {};

  // This thread collects the results.
  run_result rr;
  rr.sums.assign(inputs.size(), 0);
  std::size_t n = 0;
  for (const result& r : done_rx) {
    rr.sums[r.index] = r.sum;
    ++n;
    if (tty) {
      std::printf("\r  %u worker%s: %zu/%zu images", workers, workers == 1 ? "" : "s", n,
                  inputs.size());
      std::fflush(stdout);
    }
  }
  rr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (tty) std::printf("\r\033[K");
  if (files) files.ask(flush{}).get();  // every write was sent before its result
  sys.shutdown();
  return rr;
}

std::size_t matching(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] == b[i]) ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  std::vector<std::string> inputs;
  try {
    opt = parse_args(argc, argv);
    if (!opt.input.empty()) inputs = load_ppm_dir(opt.input);
  } catch (const usage_error& e) {
    std::cerr << "image_pipeline: " << e.text << "\n(try image_pipeline --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "image_pipeline: " << e.what() << '\n';
    return 2;
  }
  const bool tty = isatty(STDOUT_FILENO) == 1;
  const unsigned n_workers =
      opt.workers != 0 ? opt.workers : std::max(1U, std::thread::hardware_concurrency());
  const int passes = static_cast<int>(opt.blur_passes);

  if (inputs.empty()) {
    for (unsigned i = 0; i < opt.images; ++i) {
      inputs.push_back(synthesize_ppm(i, static_cast<int>(opt.size), static_cast<int>(opt.size)));
    }
    std::cout << "image_pipeline: " << inputs.size() << " synthetic " << opt.size << "x" << opt.size
              << " images, blur x" << passes << ", resize 1/2, grayscale\n";
  } else {
    std::cout << "image_pipeline: " << inputs.size() << " images from " << opt.input << ", blur x"
              << passes << ", resize 1/2, grayscale\n";
  }

  // The single-threaded reference.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> reference;
  reference.reserve(inputs.size());
  for (const auto& in : inputs) reference.push_back(checksum(process(in, passes)));
  const double t_ref = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::vector<unsigned> runs{1, n_workers};
  std::vector<run_result> results;
  bool ok = true;
  for (unsigned w : runs) {
    results.push_back(
        run_pipeline(w, inputs, passes, w == runs.back() ? opt.out : std::string(), tty));
    const std::size_t good = matching(results.back().sums, reference);
    std::cout << "pipeline on " << w << " worker" << (w == 1 ? "" : "s") << ": checksums " << good
              << "/" << inputs.size() << " match the single-threaded reference\n";
    ok = ok && good == inputs.size();
  }

  const auto count = static_cast<double>(inputs.size());
  std::cout << "\nsummary:\n";
  std::printf("  %-26s %8s %10s %10s\n", "run", "images", "seconds", "images/s");
  std::printf("  %-26s %8zu %10.3f %10.1f\n", "single-threaded reference", inputs.size(), t_ref,
              count / t_ref);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string label =
        "pipeline, " + std::to_string(runs[i]) + " worker" + (runs[i] == 1 ? "" : "s");
    std::printf("  %-26s %8zu %10.3f %10.1f\n", label.c_str(), inputs.size(), results[i].seconds,
                count / results[i].seconds);
  }
  std::printf("  speed-up, %u worker%s over 1: %.2fx\n", runs.back(), runs.back() == 1 ? "" : "s",
              results.front().seconds / results.back().seconds);
  if (!opt.out.empty())
    std::cout << "  wrote " << inputs.size() << " PGM files to " << opt.out << '\n';
  std::cout << (ok ? "check: all checksums match the single-threaded reference\n"
                   : "check: MISMATCH against the single-threaded reference\n");
  return ok ? 0 : 1;
}
