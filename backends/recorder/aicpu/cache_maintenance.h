// pto-dsl: the platform's cache-maintenance header, as an orchestration sees it. An
// orchestration invalidates a range of device memory before it reads what a running kernel
// wrote there, and flushes a range after it wrote something a kernel will read. The
// recording runs no kernel, so device memory never changes: flushing does nothing, and
// invalidating the same range twice with no runtime API call in between is a poll that can
// never end, which stops the run with a located error (pto_recorder.cpp). Each call records
// the file and line of its caller.
#pragma once

#include <cstddef>

void pto_rec_cache_invalidate(const void *addr, size_t size, const char *file, int line);
void pto_rec_cache_flush(const void *addr, size_t size, const char *file, int line);

inline void cache_invalidate_range(const void *addr, size_t size,
                                   const char *pto_rec_file = __builtin_FILE(),
                                   int pto_rec_line = __builtin_LINE()) {
    pto_rec_cache_invalidate(addr, size, pto_rec_file, pto_rec_line);
}

inline void cache_flush_range(const void *addr, size_t size,
                              const char *pto_rec_file = __builtin_FILE(),
                              int pto_rec_line = __builtin_LINE()) {
    pto_rec_cache_flush(addr, size, pto_rec_file, pto_rec_line);
}
