#pragma once
// A growable byte buffer for socket input and output. std::string::resize would zero-fill every 16 KiB
// read before recv() overwrites it (measured at over half of a small request's instructions),
// and erasing consumed bytes from the front would move the rest for every pipelined request:
// consume() only advances a start offset, and the bytes move once, when room is needed.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace berth::server {

/// memcpy for the short copies of the request path whose length is only known at run time (a
/// path, a record of a few dozen bytes): 16-byte moves, the last one overlapping, instead of the
/// `rep movsb` GCC inlines for them, whose start-up costs more than such a copy (and which
/// callgrind counts byte by byte).
inline void copyBytes(char* out, const char* in, std::size_t n) noexcept {
    if (n >= 16) {
        std::size_t i = 0;
        for (; i + 64 <= n; i += 64) std::memcpy(out + i, in + i, 64);
        for (; i + 16 <= n; i += 16) std::memcpy(out + i, in + i, 16);
        if (i < n) std::memcpy(out + n - 16, in + n - 16, 16);
    } else if (n >= 8) {
        std::memcpy(out, in, 8);
        std::memcpy(out + n - 8, in + n - 8, 8);
    } else if (n >= 4) {
        std::memcpy(out, in, 4);
        std::memcpy(out + n - 4, in + n - 4, 4);
    } else {
        for (std::size_t i = 0; i < n; ++i) out[i] = in[i];
    }
}

class ByteBuffer {
  public:
    ByteBuffer() = default;
    ~ByteBuffer() { std::free(data_); }
    ByteBuffer(ByteBuffer&& other) noexcept { swap(other); }
    ByteBuffer& operator=(ByteBuffer&& other) noexcept {
        swap(other);
        return *this;
    }
    ByteBuffer(const ByteBuffer&) = delete;
    ByteBuffer& operator=(const ByteBuffer&) = delete;

    char* data() noexcept { return data_ + begin_; }
    const char* data() const noexcept { return data_ + begin_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    std::size_t capacity() const noexcept { return capacity_; }
    /// Bytes that can be written at the end (prepare()) without growing or moving.
    std::size_t spare() const noexcept { return capacity_ - end_; }
    bool empty() const noexcept { return end_ == begin_; }
    void clear() noexcept { begin_ = end_ = 0; }

    /// Room for at least `length` more bytes at the end; write there, then commit(). Moves the
    /// unconsumed bytes to the front first when that makes the room.
    char* prepare(std::size_t length) {
        if (capacity_ - end_ < length) {
            if (begin_ > 0) {
                std::memmove(data_, data_ + begin_, end_ - begin_);
                end_ -= begin_;
                begin_ = 0;
            }
            if (capacity_ - end_ < length) reserve(end_ + length);
        }
        return data_ + end_;
    }
    void commit(std::size_t length) noexcept { end_ += length; }
    void append(const char* bytes, std::size_t length) {
        std::memcpy(prepare(length), bytes, length);
        commit(length);
    }

    /// Drops the first `length` bytes (views into the rest stay valid until the next prepare()).
    void consume(std::size_t length) noexcept {
        begin_ += length < size() ? length : size();
        if (begin_ == end_) begin_ = end_ = 0;
    }

    void swap(ByteBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(begin_, other.begin_);
        std::swap(end_, other.end_);
        std::swap(capacity_, other.capacity_);
    }

  private:
    void reserve(std::size_t wanted) {
        std::size_t capacity = capacity_ == 0 ? 4096 : capacity_;
        while (capacity < wanted) capacity *= 2;
        void* grown = std::realloc(data_, capacity);
        if (grown == nullptr) throw std::bad_alloc();
        data_ = static_cast<char*>(grown);
        capacity_ = capacity;
    }

    char* data_ = nullptr;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace berth::server
