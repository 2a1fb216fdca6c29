#include "troupe/wire/writer.hpp"

#include <string>

namespace troupe::wire {

using detail::cat;

void writer::fail_size(std::size_t n) const {
  throw wire_error(wire_errc::frame_too_large,
                   cat("encode: appending ", n, " bytes to ", written(),
                       " would pass the limit of ", max_size_, " bytes"));
}

void writer::fail_length(std::size_t n) const {
  throw wire_error(wire_errc::length_overflow,
                   cat("encode: string of ", n, " bytes exceeds max_string ", bounds_.max_string));
}

void writer::fail_count(std::size_t n) const {
  throw wire_error(
      wire_errc::count_overflow,
      cat("encode: container of ", n, " elements exceeds max_elements ", bounds_.max_elements));
}

void writer::fail_depth() const {
  throw wire_error(wire_errc::depth_exceeded,
                   cat("encode: value nests deeper than max_depth ", bounds_.max_depth));
}

}  // namespace troupe::wire
