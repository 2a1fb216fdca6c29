#pragma once
// Not API. Preprocessor helpers: TROUPE_PP_FOR_EACH applies a macro to each
// of up to 256 arguments, with commas between the results.

// Rescans its argument 4^4 = 256 times. A step names the next one behind
// TROUPE_PP_EMPTY(), so each rescan expands one more step (a macro cannot
// expand itself directly).
#define TROUPE_PP_RESCAN(...) \
  TROUPE_PP_RESCAN4(TROUPE_PP_RESCAN4(TROUPE_PP_RESCAN4(TROUPE_PP_RESCAN4(__VA_ARGS__))))
#define TROUPE_PP_RESCAN4(...) \
  TROUPE_PP_RESCAN3(TROUPE_PP_RESCAN3(TROUPE_PP_RESCAN3(TROUPE_PP_RESCAN3(__VA_ARGS__))))
#define TROUPE_PP_RESCAN3(...) \
  TROUPE_PP_RESCAN2(TROUPE_PP_RESCAN2(TROUPE_PP_RESCAN2(TROUPE_PP_RESCAN2(__VA_ARGS__))))
#define TROUPE_PP_RESCAN2(...) \
  TROUPE_PP_RESCAN1(TROUPE_PP_RESCAN1(TROUPE_PP_RESCAN1(TROUPE_PP_RESCAN1(__VA_ARGS__))))
#define TROUPE_PP_RESCAN1(...) __VA_ARGS__
#define TROUPE_PP_EMPTY()

/// `m(a), m(b), m(c)` from `TROUPE_PP_FOR_EACH(m, a, b, c)`; nothing for no arguments.
#define TROUPE_PP_FOR_EACH(m, ...) \
  __VA_OPT__(TROUPE_PP_RESCAN(TROUPE_PP_FOR_EACH_STEP(m, __VA_ARGS__)))
#define TROUPE_PP_FOR_EACH_STEP(m, first, ...) \
  m(first) __VA_OPT__(, TROUPE_PP_FOR_EACH_NEXT TROUPE_PP_EMPTY()()(m, __VA_ARGS__))
#define TROUPE_PP_FOR_EACH_NEXT() TROUPE_PP_FOR_EACH_STEP
