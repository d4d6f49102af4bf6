#pragma once
// A growable byte buffer for socket input. std::string::resize would zero-fill every 16 KiB
// read before recv() overwrites it: measured at over half of a small request's instructions.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace berth::server {

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

    char* data() noexcept { return data_; }
    const char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    void clear() noexcept { size_ = 0; }

    /// Room for at least `length` more bytes at the end; write there, then commit().
    char* prepare(std::size_t length) {
        if (capacity_ - size_ < length) reserve(size_ + length);
        return data_ + size_;
    }
    void commit(std::size_t length) noexcept { size_ += length; }

    /// Drops the first `length` bytes.
    void consume(std::size_t length) noexcept {
        if (length >= size_) {
            size_ = 0;
            return;
        }
        std::memmove(data_, data_ + length, size_ - length);
        size_ -= length;
    }

    void swap(ByteBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
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
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace berth::server
