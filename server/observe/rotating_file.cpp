#include "rotating_file.h"

#include <Poco/File.h>
#include <Poco/Path.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace berth::server {

RotatingFile::RotatingFile(std::string path, std::size_t maxBytes, int keep)
    : path_(std::move(path)), maxBytes_(maxBytes), keep_(keep) {
    Poco::File(Poco::Path(path_).parent()).createDirectories();
    open();
}

RotatingFile::~RotatingFile() {
    if (fd_ >= 0) ::close(fd_);
}

void RotatingFile::open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path_);
    struct stat info;
    size_ = ::fstat(fd_, &info) == 0 ? static_cast<std::size_t>(info.st_size) : 0;
}

void RotatingFile::rotate() {
    ::close(fd_);
    fd_ = -1;
    if (keep_ <= 0) {
        ::unlink(path_.c_str());
    } else {
        std::string oldest = path_ + "." + std::to_string(keep_);
        ::unlink(oldest.c_str());
        for (int i = keep_ - 1; i >= 1; --i)
            std::rename((path_ + "." + std::to_string(i)).c_str(),
                        (path_ + "." + std::to_string(i + 1)).c_str());
        std::rename(path_.c_str(), (path_ + ".1").c_str());
    }
    open();
}

bool RotatingFile::write(const char* data, std::size_t length) {
    if (maxBytes_ > 0 && size_ > 0 && size_ + length > maxBytes_) {
        try {
            rotate();
        } catch (const std::system_error&) {
            return false;
        }
    }
    while (length > 0) {
        ssize_t written = ::write(fd_, data, length);
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += written;
        length -= static_cast<std::size_t>(written);
        size_ += static_cast<std::size_t>(written);
    }
    return true;
}

}  // namespace berth::server
