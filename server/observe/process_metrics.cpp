#include "process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "prometheus_text.h"

namespace berth::server {
namespace {

std::string readProcFile(const char* path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Seconds since the epoch at which this process started: boot time (btime of /proc/stat) plus
// field 22 of /proc/self/stat (clock ticks after boot). -1 when /proc cannot tell.
double startTimeSeconds() {
    std::string stat = readProcFile("/proc/self/stat");
    std::size_t afterName = stat.rfind(')');  // the command name may hold spaces and parentheses
    std::string global = readProcFile("/proc/stat");
    std::size_t btime = global.find("\nbtime ");
    if (afterName == std::string::npos || btime == std::string::npos) return -1;
    std::istringstream fields(stat.substr(afterName + 2));  // field 3 (state) onwards
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
    }
    long ticks = sysconf(_SC_CLK_TCK);
    if (!fields || ticks <= 0) return -1;
    return std::strtod(global.c_str() + btime + 7, nullptr) + std::strtod(field.c_str(), nullptr) / ticks;
}

// Entries of /proc/self/fd, less the one this listing itself holds open.
long openFileDescriptors() {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    long count = 0;
    while (dirent* entry = readdir(dir))
        if (entry->d_name[0] != '.') ++count;
    closedir(dir);
    return count - 1;
}

}  // namespace

void renderProcessMetrics(PrometheusText& text) {
    static const double started = startTimeSeconds();  // it does not change: read /proc once
    if (started >= 0) {
        text.family("process_start_time_seconds", "gauge",
                    "Start time of the process since the Unix epoch in seconds.");
        text.sample("process_start_time_seconds").value(started);
    }

    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
        auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
        text.family("process_cpu_seconds_total", "counter",
                    "Total user and system CPU time spent in seconds.");
        text.sample("process_cpu_seconds_total").value(seconds(usage.ru_utime) + seconds(usage.ru_stime));
    }

    std::istringstream statm(readProcFile("/proc/self/statm"));
    std::uint64_t sizePages = 0, residentPages = 0;
    if (statm >> sizePages >> residentPages) {
        const std::uint64_t page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
        text.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        text.sample("process_resident_memory_bytes").value(residentPages * page);
        text.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        text.sample("process_virtual_memory_bytes").value(sizePages * page);
    }

    long open = openFileDescriptors();
    if (open >= 0) {
        text.family("process_open_fds", "gauge", "Number of open file descriptors.");
        text.sample("process_open_fds").value(static_cast<std::int64_t>(open));
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        text.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
        text.sample("process_max_fds").value(static_cast<std::uint64_t>(limit.rlim_cur));
    }
}

}  // namespace berth::server
