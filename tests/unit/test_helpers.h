#pragma once
// Small helpers shared by the unit suites: a temporary folder that removes itself, file
// writing, fixture paths and a Poco channel that keeps what was logged.

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/File.h>
#include <Poco/Message.h>
#include <Poco/Path.h>
#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace berth::test {

/// A fresh folder under /tmp, removed with everything in it when the object goes.
class TempDir {
  public:
    TempDir() {
        char pattern[] = "/tmp/berth-unit-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        try {
            Poco::File(path_).remove(true);
        } catch (...) {
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const noexcept { return path_; }
    /// `name` inside the folder (not created).
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    /// Creates the subfolder `name` and returns its path.
    std::string subdir(const std::string& name) const {
        std::string dir = file(name);
        Poco::File(dir).createDirectories();
        return dir;
    }

  private:
    std::string path_;
};

inline void writeFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << content;
}

inline std::string fixture(const std::string& name) {
    return std::string(BERTH_FIXTURE_DIR) + "/" + name;
}
inline std::string pluginFile(const std::string& name) {
    return std::string(BERTH_PLUGIN_DIR) + "/" + name;
}

/// Copies `source` to `dir`/`as` and returns the new file's path.
inline std::string copyInto(const std::string& source, const std::string& dir, const std::string& as) {
    std::string target = dir + "/" + as;
    Poco::File(source).copyTo(target);
    return target;
}

/// Keeps every logged message's text, for asserting what reaches the log.
class CaptureChannel : public Poco::Channel {
  public:
    void log(const Poco::Message& message) override { lines.push_back(message.getText()); }
    bool contains(const std::string& text) const {
        for (const std::string& line : lines)
            if (line.find(text) != std::string::npos) return true;
        return false;
    }
    std::vector<std::string> lines;
};

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

/// Runs `call`, which must throw E, and returns what(); fails the test if it does not throw E.
template <class E, class F>
std::string thrownMessage(F&& call, const std::string& what = "call") {
    try {
        call();
    } catch (const E& e) {
        return e.what();
    }
    CPPUNIT_FAIL(what + " did not throw the expected exception");
    return {};
}

}  // namespace berth::test
