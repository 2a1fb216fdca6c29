#include "troupe/wire/detail/type_name.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace troupe::wire::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return (status == 0 && out) ? std::string(out.get()) : std::string(mangled);
}

}  // namespace troupe::wire::detail
