#pragma once
// Allocation of mailbox message nodes.
//
// A message is allocated by its sender and freed by its receiver, usually on
// another thread, which is the worst case for general-purpose allocators
// (cross-thread frees contend on the allocating thread's arena). Nodes up to
// 256 bytes therefore come from per-thread caches of "magazines" (arrays of
// free blocks of one size class) backed by a shared depot: a thread that
// frees fills a magazine and hands it to the depot; a thread that allocates
// takes full magazines from it. Each depot operation moves 64 blocks under a
// mutex, so the common path is a thread-local array push or pop. The depot
// keeps a bounded number of magazines and returns the rest to the system
// allocator. Sanitizer builds bypass the caches, so every node is a fresh
// allocation that AddressSanitizer can track.

#include <cstddef>

namespace troupe::detail {

/// Allocates a message node of `size` bytes (aligned for any message).
/// @threadsafe
void* alloc_node(std::size_t size);

/// As alloc_node(), but returns null when out of memory.
/// @threadsafe
void* alloc_node_nothrow(std::size_t size) noexcept;

/// Frees a node from alloc_node(); `size` must be the size it was allocated with.
/// @threadsafe
void free_node(void* p, std::size_t size) noexcept;

}  // namespace troupe::detail
