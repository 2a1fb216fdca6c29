#pragma once
// Readable type names for error messages and logs.

#include <string>
#include <typeinfo>

namespace troupe::detail {

/// Demangles a typeid name ("std::runtime_error" rather than "St13runtime_error").
std::string demangle(const char* mangled);

template <class T>
std::string type_name() {
  return demangle(typeid(T).name());
}

/// "<type>: <what>" for the exception in flight (call inside a catch block).
std::string describe_current_exception();

}  // namespace troupe::detail
