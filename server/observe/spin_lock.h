#pragma once
// A lock for the per-loop shards of the access log and the span queue: the I/O loop takes it once
// per request, the writer only to swap a buffer (a few instructions), so it is never held for long
// and almost never contended. A pthread mutex costs two library calls per request for that (~50
// instructions); this costs an exchange and a store. BasicLockable, for std::lock_guard.

#include <atomic>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace berth::server {

class SpinLock {
  public:
    void lock() noexcept {
        while (locked_.exchange(true, std::memory_order_acquire)) {
            while (locked_.load(std::memory_order_relaxed)) {
#if defined(__SSE2__)
                _mm_pause();  // the holder is swapping a buffer: wait without hammering the line
#endif
            }
        }
    }
    void unlock() noexcept {
        locked_.store(false, std::memory_order_release);
    }

  private:
    std::atomic<bool> locked_{false};
};

}  // namespace berth::server
