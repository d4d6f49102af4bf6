#pragma once
// An append-only file that rotates by size (file → file.1 → … → file.<keep>), written with one
// write(2) per batch. The access log uses it instead of a Poco channel: Poco's logging path
// copies a batch into a Message, a formatter and a stream, ~900 instructions per request line.

#include <cstddef>
#include <string>

namespace berth::server {

class RotatingFile {
  public:
    /// Creates the parent folder if missing; throws std::system_error when the file cannot be opened.
    RotatingFile(std::string path, std::size_t maxBytes, int keep);
    ~RotatingFile();
    RotatingFile(const RotatingFile&) = delete;
    RotatingFile& operator=(const RotatingFile&) = delete;

    /// Appends `length` bytes; rotates first when they would take the file past maxBytes.
    /// Returns false (and keeps going) when the disk refuses them.
    bool write(const char* data, std::size_t length);
    const std::string& path() const noexcept { return path_; }

  private:
    void open();
    void rotate();

    std::string path_;
    std::size_t maxBytes_;
    int keep_;
    int fd_ = -1;
    std::size_t size_ = 0;
};

}  // namespace berth::server
