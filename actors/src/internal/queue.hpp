#pragma once
// The one place troupe includes moodycamel's ConcurrentQueue (Debian ships it
// as <concurrentqueue.h> under /usr/include/concurrentqueue).

#include <concurrentqueue.h>
