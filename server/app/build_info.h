#pragma once
// What this berthd was built from, for berth_build_info on /metrics: the project version and the
// git commit. Both are written into a generated build_info.cpp (server/build_info.cmake) at every
// build, but the file is rewritten only when they change: a new commit recompiles one small file.

namespace berth::server {

struct BuildInfo {
    const char* version;  // project(Berth VERSION ...) of the top CMakeLists.txt
    const char* commit;   // `git rev-parse --short=12 HEAD` of the source tree, or "unknown"
};

const BuildInfo& buildInfo() noexcept;

}  // namespace berth::server
