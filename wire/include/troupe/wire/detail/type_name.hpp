#pragma once
// Readable type names for wire errors and registry conflicts. troupe::wire
// depends on no other troupe component, so it carries its own demangler.

#include <string>
#include <typeinfo>

namespace troupe::wire::detail {

/// Demangles a typeid name ("std::vector<int>" rather than "St6vectorIiSaIiEE").
std::string demangle(const char* mangled);

template <class T>
std::string type_name() {
  return demangle(typeid(T).name());
}

}  // namespace troupe::wire::detail
