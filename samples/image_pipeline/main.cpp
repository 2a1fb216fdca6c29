// A CPU-bound image pipeline: decode -> transform (blur, resize, grayscale)
// -> encode, each stage a group of tasks on the actor system's pool joined
// by bounded channels (back-pressure: a fast stage waits for a slow one, no
// queue grows without bound). It runs at 1 worker and at N workers, prints
// images/s and the speed-up, and checks every output checksum against a
// single-threaded reference (a mismatch exits with status 1).
//
//   image_pipeline [--images N] [--size S] [--input DIR] [--workers N]
//                  [--blur-passes P] [--out DIR]                (CLI11; --help)
//
// With no --input it makes synthetic images. --input DIR reads the PNG, JPEG
// and PPM files there (codec.hpp: libpng, libjpeg-turbo), told apart by their
// magic bytes; a corrupt or truncated one is named on stderr with the
// decoder's reason and skipped. The encode stage makes PNG files.
//
// Writing the results (--out DIR) is blocking file I/O, so it is done by a
// detached actor (a thread of its own), never on a pool worker.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <troupe/troupe.hpp>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "codec.hpp"
#include "image.hpp"

namespace fs = std::filesystem;
using namespace imgpipe;

namespace {

struct options {
  unsigned images = 32;
  unsigned size = 256;
  std::string input;
  unsigned workers = 0;
  unsigned blur_passes = 2;
  std::string out;
};

// Binds the command line to `o` (CLI11; samples/common/cli.hpp runs it).
void describe(CLI::App& app, options& o) {
  // CLI11's check, without its ":DIR" after the type name in the help.
  CLI::Validator existing_dir = CLI::ExistingDirectory;
  existing_dir.description("");
  app.description(
      "Runs images through decode -> blur, resize, grayscale -> encode (PNG), each\n"
      "stage a group of tasks on troupe's pool joined by bounded channels; first on 1\n"
      "worker, then on N; prints images/s and the speed-up, and checks every output\n"
      "against a single-threaded reference (a mismatch exits with status 1).");
  app.add_option("--images", o.images, "synthetic images to make")
      ->check(CLI::Range(1U, 10000U))
      ->capture_default_str();
  app.add_option("--size", o.size, "side of a synthetic image in pixels")
      ->check(CLI::Range(16U, 4096U))
      ->capture_default_str();
  app.add_option("--input", o.input,
                 "read the PNG, JPEG and binary PPM/PGM files in DIR (told apart by\n"
                 "their first bytes, not their names) instead of making synthetic\n"
                 "images; a corrupt or truncated file is reported and skipped")
      ->type_name("DIR")
      ->check(existing_dir);
  app.add_option("--workers", o.workers,
                 "pool workers of the parallel run (default: the hardware threads)")
      ->check(CLI::Range(1U, 256U));
  app.add_option("--blur-passes", o.blur_passes, "3x3 box blur passes")
      ->check(CLI::Range(0U, 16U))
      ->capture_default_str();
  app.add_option("--out", o.out,
                 "write the results there as 8-bit gray PNG files (the parallel run\n"
                 "only; DIR must exist)")
      ->type_name("DIR")
      ->check(existing_dir);
  app.footer(
      "Small inputs are not faster in parallel: a few small images are a few\n"
      "milliseconds of work, and handing each image between threads through three\n"
      "channels costs about as much. The default 32 images of 256x256 already\n"
      "scale (about 1.9x on 2 cores); --images 64 --size 512 comes close to 2x.");
}

// Thrown when --input gives nothing to work on; main prints it and exits
// with status 2.
struct usage_error {
  std::string text;
};

struct inputs {
  std::vector<std::string> bytes;      // the encoded images
  std::vector<std::string> out_names;  // what --out calls their results
  std::string kinds;                   // e.g. "3 PNG, 1 JPEG"
  std::size_t skipped = 0;
};

// Reads every regular file in `dir` (sorted by name) and keeps those that
// decode; each one that does not is reported on stderr with the decoder's
// reason and skipped.
inputs load_dir(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  inputs in;
  std::vector<fs::path> kept;
  std::map<std::string, unsigned> per_format;
  for (const auto& f : files) {
    std::ifstream is(f, std::ios::binary);
    std::ostringstream ss;
    ss << is.rdbuf();
    std::string bytes = std::move(ss).str();
    std::string why;
    image img;
    if (!is) {
      why = "cannot read it";
    } else {
      why = decode_image(bytes, img);
    }
    if (!why.empty()) {
      std::cerr << "image_pipeline: skipped " << f.string() << ": " << why << '\n';
      ++in.skipped;
      continue;
    }
    ++per_format[format_name(sniff(bytes))];
    in.bytes.push_back(std::move(bytes));
    kept.push_back(f);
  }
  if (in.bytes.empty()) {
    throw usage_error{"--input: no PNG, JPEG or PPM image to read in '" + dir + "'"};
  }
  for (const auto& [name, n] : per_format) {
    in.kinds += (in.kinds.empty() ? "" : ", ") + std::to_string(n) + " " + name;
  }
  // a.png -> a.png, b.jpg -> b.png; when two share a stem (a.png, a.jpg),
  // each keeps its extension: a_png.png, a_jpg.png.
  std::map<std::string, unsigned> stems;
  for (const auto& f : kept) ++stems[f.stem().string()];
  for (const auto& f : kept) {
    std::string name = f.stem().string();
    if (stems[name] > 1) {
      name = f.filename().string();
      std::replace(name.begin(), name.end(), '.', '_');
    }
    in.out_names.push_back(name + ".png");
  }
  return in;
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
    std::ofstream os(w.path, std::ios::binary);
    os.write(w.bytes.data(), static_cast<std::streamsize>(w.bytes.size()));
    os.close();
    if (os) {
      ++written_;
    } else {
      std::cerr << "image_pipeline: cannot write " << w.path.string() << '\n';
    }
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

// Runs `inputs` through the pipeline on `workers` pool workers; with an
// `out_dir`, writes result i there as `out_names[i]`.
run_result run_pipeline(unsigned workers, const std::vector<std::string>& inputs, int blur_passes,
                        const std::string& out_dir, const std::vector<std::string>& out_names,
                        bool tty) {
  troupe::system sys(troupe::system_config{workers});
  troupe::ref<writer> files;
  if (!out_dir.empty()) files = sys.spawn<writer>(troupe::detached);

  const auto t0 = std::chrono::steady_clock::now();
  constexpr std::size_t kDepth = 4;  // images buffered between two stages
  auto [jobs_tx, jobs_rx] = troupe::make_channel<job>(kDepth);
  auto [decoded_tx, decoded_rx] = troupe::make_channel<frame>(kDepth);
  auto [shaped_tx, shaped_rx] = troupe::make_channel<frame>(kDepth);
  auto [done_tx, done_rx] = troupe::make_channel<result>(kDepth);

  stage(sys, workers, jobs_rx, decoded_tx, [](job j) {
    return frame{j.index, decode_image(j.bytes)};
  });
  stage(sys, workers, decoded_rx, shaped_tx, [blur_passes](frame f) {
    return frame{f.index, grayscale(half(blur(std::move(f.img), blur_passes)))};
  });
  stage(sys, workers, shaped_rx, done_tx, [files, out_dir, &out_names](frame f) {
    std::string bytes = encode_png(f.img);
    const result r{f.index, checksum(bytes)};
    if (files) files.send(write_file{fs::path(out_dir) / out_names[f.index], std::move(bytes)});
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

std::string decimals(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
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
  CLI::App app{"", "image_pipeline"};
  describe(app, opt);
  if (auto rc = sample_cli::parse(app, argc, argv)) return *rc;
  inputs in;
  try {
    if (!opt.input.empty()) in = load_dir(opt.input);
  } catch (const usage_error& e) {
    std::cerr << "image_pipeline: " << e.text << "\n(run with --help for usage)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "image_pipeline: " << e.what() << '\n';
    return 2;
  }
  const bool tty = isatty(STDOUT_FILENO) == 1;
  const unsigned n_workers =
      opt.workers != 0 ? opt.workers : std::max(1U, std::thread::hardware_concurrency());
  const int passes = static_cast<int>(opt.blur_passes);

  std::vector<std::string>& inputs = in.bytes;
  if (opt.input.empty()) {
    for (unsigned i = 0; i < opt.images; ++i) {
      inputs.push_back(synthesize_ppm(i, static_cast<int>(opt.size), static_cast<int>(opt.size)));
      char name[32];
      std::snprintf(name, sizeof name, "image_%04u.png", i);
      in.out_names.emplace_back(name);
    }
    std::cout << "image_pipeline: " << inputs.size() << " synthetic " << opt.size << "x" << opt.size
              << " images, blur x" << passes << ", resize 1/2, grayscale\n";
  } else {
    std::cout << "image_pipeline: " << inputs.size() << " images (" << in.kinds << ") from "
              << opt.input << ", blur x" << passes << ", resize 1/2, grayscale\n";
    if (in.skipped != 0) {
      std::cout << "skipped " << in.skipped << " file" << (in.skipped == 1 ? "" : "s")
                << " that did not decode (each named on stderr with the reason)\n";
    }
  }

  // The single-threaded reference.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> reference;
  reference.reserve(inputs.size());
  for (const auto& bytes : inputs) reference.push_back(checksum(process(bytes, passes)));
  const double t_ref = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::vector<unsigned> runs{1, n_workers};
  std::vector<run_result> results;
  bool ok = true;
  for (unsigned w : runs) {
    results.push_back(run_pipeline(w, inputs, passes, w == runs.back() ? opt.out : std::string(),
                                   in.out_names, tty));
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
  const double t_one = results.front().seconds;
  const double t_par = results.back().seconds;
  std::printf("  speed-up, %u worker%s over 1: %.2fx\n", runs.back(), runs.back() == 1 ? "" : "s",
              t_one / t_par);
  if (!opt.out.empty())
    std::cout << "  wrote " << inputs.size() << " PNG files to " << opt.out << '\n';
  std::cout << '\n';
  if (t_par > t_one || t_par > t_ref) {
    const std::string seq = t_par > t_one ? "the 1-worker run" : "the single-threaded reference";
    const double t_seq = t_par > t_one ? t_one : t_ref;
    std::cout << "why the parallel run is slower here: ";
    if (runs.back() == 1) {
      std::cout << "it has 1 worker too (--workers 1, or a machine with one hardware thread), so "
                   "the two runs differ only by noise; give --workers 2 or more.\n";
    } else if (t_ref < 0.5) {
      std::cout << "it took " << decimals(t_par * 1000, 2) << " ms and " << seq << " "
                << decimals(t_seq * 1000, 2) << " ms: " << inputs.size() << " image"
                << (inputs.size() == 1 ? " is" : "s are") << " too little work to pay for "
                << "handing each image between threads through three channels; more and "
                << "bigger images do (e.g. the synthetic --images 64 --size 512).\n";
    } else {
      std::cout << "it took " << decimals(t_par, 2) << " s and " << seq << " " << decimals(t_seq, 2)
                << " s: that is enough work to scale, so "
                << (runs.back() > std::thread::hardware_concurrency()
                        ? "the workers outnumber the hardware threads ("
                        : "other programs were most likely using the cores (")
                << runs.back() << " workers, " << std::thread::hardware_concurrency()
                << " hardware threads).\n";
    }
  }
  std::cout << (ok ? "check: all checksums match the single-threaded reference\n"
                   : "check: MISMATCH against the single-threaded reference\n");
  return ok ? 0 : 1;
}
