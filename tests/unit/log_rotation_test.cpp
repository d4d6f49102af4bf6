// The rotation, archive and purge keys of the shipped conf/logging.properties, through berthd's
// logging set-up (prepareLogging, then Poco's LoggingConfigurator, which ServerApplication runs):
// they reach the FileChannel under names it knows, and — the size lowered and the count of kept
// files changed through the same keys — writing past the size rotates the file into gzipped,
// timestamp-named archives, of which the purgeCount newest stay (one fewer at times: Poco counts an
// archive being compressed twice) or, with purgeAge instead, those younger than it.
#include <Poco/AutoPtr.h>
#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/FileChannel.h>
#include <Poco/FileStream.h>
#include <Poco/FormattingChannel.h>
#include <Poco/InflatingStream.h>
#include <Poco/LoggingRegistry.h>
#include <Poco/Message.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>
#include <Poco/Util/LoggingConfigurator.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "app/logging_setup.h"
#include "observe/json_log_formatter.h"
#include "test_helpers.h"

using berth::test::TempDir;
using Poco::Util::AbstractConfiguration;
using Poco::Util::PropertyFileConfiguration;

namespace {

const char* const kLoggingTrees[] = {"logging.formatters", "logging.channels"};

void copyTree(const AbstractConfiguration& from, const std::string& key, Poco::Util::MapConfiguration& to) {
    if (from.hasProperty(key)) to.setString(key, from.getRawString(key));
    AbstractConfiguration::Keys children;
    from.keys(key, children);
    for (const std::string& child : children) copyTree(from, key + "." + child, to);
}

// conf/logging.properties as shipped, its relative file path resolved against `confDir`.
Poco::AutoPtr<PropertyFileConfiguration> shipped(const std::string& confDir) {
    Poco::AutoPtr<PropertyFileConfiguration> config(
        new PropertyFileConfiguration(std::string(BERTH_SOURCE_DIR) + "/conf/logging.properties"));
    CPPUNIT_ASSERT(berth::server::prepareLogging(*config, confDir).empty());
    return config;
}

// The shipped file (its folder conf/ in `dir`), rotating at 1 K and keeping 3 archives.
Poco::AutoPtr<PropertyFileConfiguration> rotatingAtOneKilobyte(const TempDir& dir) {
    auto config = shipped(dir.subdir("conf"));
    config->setString("logging.channels.file.rotation", "1 K");
    config->setString("logging.channels.file.purgeCount", "3");
    return config;
}

// "berth.log.20261125134241415" (and ".gz" when `gzipped`): a timestamp archive, with a ".<n>"
// after the stamp when two share a millisecond.
bool isTimestampArchive(const std::string& name, bool gzipped) {
    const std::string prefix = "berth.log.", suffix = gzipped ? ".gz" : "";
    if (name.size() < prefix.size() + 17 + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return false;
    const std::string stamp = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    for (std::size_t i = 0; i < stamp.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(stamp[i])) && !(i >= 17 && stamp[i] == '.'))
            return false;
    return true;
}

std::string readAll(const std::string& path, bool gzipped = false) {
    Poco::FileInputStream file(path);
    std::string text;
    if (!gzipped) {
        Poco::StreamCopier::copyToString(file, text);
        return text;
    }
    Poco::InflatingInputStream inflated(file, Poco::InflatingStreamBuf::STREAM_GZIP);
    Poco::StreamCopier::copyToString(inflated, text);
    return text;
}

// Configures the logging.formatters and logging.channels of `config` as berthd does, in this
// process's registry, and takes them out again when it goes. Not logging.loggers: those would
// re-point every logger of the test runner.
class ConfiguredChannels {
  public:
    explicit ConfiguredChannels(const AbstractConfiguration& config) {
        berth::server::JsonLogFormatter::registerWithLoggingFactory();
        Poco::AutoPtr<Poco::Util::MapConfiguration> part(new Poco::Util::MapConfiguration);
        for (const char* tree : kLoggingTrees) {
            copyTree(config, tree, *part);
            AbstractConfiguration::Keys names;
            config.keys(tree, names);
            (std::string(tree) == "logging.channels" ? channels_ : formatters_) = names;
        }
        Poco::Util::LoggingConfigurator().configure(part);
        fileChannel_ = Poco::LoggingRegistry::defaultRegistry().channelForName("file");
    }
    ~ConfiguredChannels() {
        fileChannel_->close();
        fileChannel_.reset();
        for (const std::string& name : channels_)
            Poco::LoggingRegistry::defaultRegistry().unregisterChannel(name);
        for (const std::string& name : formatters_)
            Poco::LoggingRegistry::defaultRegistry().unregisterFormatter(name);
    }

    /// The "file" channel as logging.properties names it: the JSON formatter in front of a FileChannel.
    Poco::FileChannel& file() {
        auto* formatting = dynamic_cast<Poco::FormattingChannel*>(fileChannel_.get());
        CPPUNIT_ASSERT_MESSAGE("channel 'file' has no formatter", formatting != nullptr);
        auto* file = dynamic_cast<Poco::FileChannel*>(formatting->getChannel().get());
        CPPUNIT_ASSERT_MESSAGE("channel 'file' is no FileChannel", file != nullptr);
        return *file;
    }
    /// One line of about 1.1 KB through the whole channel (formatter included). A millisecond
    /// apart at least: two rotations within one millisecond make Poco 1.11's timestamp archive
    /// rename the earlier archive (to <stamp>.0) and leave the full file unrotated.
    void write(int unit) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        fileChannel_->log(Poco::Message("berth.rotation",
                                        "unit-" + std::to_string(unit) + " " + std::string(1100, 'x'),
                                        Poco::Message::PRIO_INFORMATION));
    }

  private:
    AbstractConfiguration::Keys channels_, formatters_;
    Poco::Channel::Ptr fileChannel_;
};

bool endsWith(const std::string& text, const std::string& end) {
    return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

// The rotated files beside berth.log ("berth.log.<stamp>[.gz]"), sorted; with `compressed`, once the
// compressor (a thread of Poco's) has left none uncompressed.
std::vector<std::string> archivesIn(const std::string& folder, bool compressed) {
    std::vector<std::string> names;
    for (int attempt = 0; attempt < 500; ++attempt) {
        names.clear();
        bool pending = false;
        for (Poco::DirectoryIterator it(folder), end; it != end; ++it) {
            if (it.name().rfind("berth.log.", 0) != 0) continue;
            names.push_back(it.name());
            pending = pending || (compressed && !endsWith(it.name(), ".gz"));
        }
        if (!pending) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::sort(names.begin(), names.end());
    return names;
}

// The unit (the number in "unit-3 xxx…") the archive's line came from.
int unitIn(const std::string& folder, const std::string& archive) {
    std::string text = readAll(folder + "/" + archive, endsWith(archive, ".gz"));
    std::size_t at = text.find("\"message\":\"unit-");
    CPPUNIT_ASSERT_MESSAGE(archive + ": " + text.substr(0, 200), at != std::string::npos);
    return std::stoi(text.substr(at + 16));
}

void setAge(const std::string& path, Poco::Timespan age) {
    Poco::Timestamp when;
    when -= age.totalMicroseconds();
    Poco::File(path).setLastModified(when);
}

// "3 4 5": what the archives hold, ascending.
std::string unitsHeld(const std::string& folder, const std::vector<std::string>& archives) {
    std::vector<int> units;
    for (const std::string& name : archives) units.push_back(unitIn(folder, name));
    std::sort(units.begin(), units.end());
    std::string text;
    for (int unit : units) text += (text.empty() ? "" : " ") + std::to_string(unit);
    return text;
}

// "first … last"
std::string unitRange(int first, int last) {
    std::string text;
    for (int unit = first; unit <= last; ++unit) text += (text.empty() ? "" : " ") + std::to_string(unit);
    return text;
}

}  // namespace

class LogRotationTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LogRotationTest);
    CPPUNIT_TEST(testShippedKeysReachTheFileChannel);
    CPPUNIT_TEST(testRotationGzipsAndPurgeKeepsAtMostTheCount);
    CPPUNIT_TEST(testPurgeCountExactWithoutCompression);
    CPPUNIT_TEST(testPurgeAgeInstead);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testShippedKeysReachTheFileChannel() {
        TempDir dir;
        auto config = shipped(dir.subdir("conf"));
        ConfiguredChannels channels(*config);
        Poco::FileChannel& file = channels.file();
        CPPUNIT_ASSERT_EQUAL(dir.file("logs/berth.log"), file.getProperty(Poco::FileChannel::PROP_PATH));
        CPPUNIT_ASSERT_EQUAL(std::string("100 M"), file.getProperty(Poco::FileChannel::PROP_ROTATION));
        CPPUNIT_ASSERT_EQUAL(std::string("timestamp"), file.getProperty(Poco::FileChannel::PROP_ARCHIVE));
        CPPUNIT_ASSERT_EQUAL(std::string("utc"), file.getProperty(Poco::FileChannel::PROP_TIMES));
        CPPUNIT_ASSERT_EQUAL(std::string("true"), file.getProperty(Poco::FileChannel::PROP_COMPRESS));
        CPPUNIT_ASSERT_EQUAL(std::string("10"), file.getProperty(Poco::FileChannel::PROP_PURGECOUNT));
        // Below the size nothing rotates.
        for (int unit = 0; unit < 5; ++unit) channels.write(unit);
        CPPUNIT_ASSERT(archivesIn(dir.file("logs"), true).empty());
    }

    void testRotationGzipsAndPurgeKeepsAtMostTheCount() {
        TempDir dir;
        auto config = rotatingAtOneKilobyte(dir);
        ConfiguredChannels channels(*config);
        const std::string logs = dir.file("logs");
        rotate(channels, logs, true, [&](int unit, const std::vector<std::string>& archives) {
            for (const std::string& name : archives)
                CPPUNIT_ASSERT_MESSAGE(name, isTimestampArchive(name, true));
            // The newest archives stay. Poco's purge runs while the compressor may already have
            // begun the new archive's .gz, which it then counts as well: once there are
            // purgeCount, one fewer may be left (never more).
            const std::string held = unitsHeld(logs, archives);
            const bool full = unit >= 3;
            CPPUNIT_ASSERT_MESSAGE(std::to_string(unit) + ": " + held,
                                   held == unitRange(std::max(0, unit - 3), unit - 1) ||
                                       (full && held == unitRange(unit - 2, unit - 1)));
        });
        std::string current = readAll(logs + "/berth.log");
        CPPUNIT_ASSERT_MESSAGE(current, berth::test::contains(current, "\"message\":\"unit-6 "));
        CPPUNIT_ASSERT_MESSAGE(current, !berth::test::contains(current, "\"message\":\"unit-5 "));
    }

    void testPurgeCountExactWithoutCompression() {
        TempDir dir;
        auto config = rotatingAtOneKilobyte(dir);
        config->setString("logging.channels.file.compress", "false");
        ConfiguredChannels channels(*config);
        const std::string logs = dir.file("logs");
        rotate(channels, logs, false, [&](int unit, const std::vector<std::string>& archives) {
            for (const std::string& name : archives)
                CPPUNIT_ASSERT_MESSAGE(name, isTimestampArchive(name, false));
            CPPUNIT_ASSERT_EQUAL(unitRange(std::max(0, unit - 3), unit - 1), unitsHeld(logs, archives));
        });
    }

    void testPurgeAgeInstead() {
        // "purgeAge = 30 days instead" (the shipped file's comment): purgeCount out, purgeAge in.
        TempDir dir;
        auto config = rotatingAtOneKilobyte(dir);
        config->remove("logging.channels.file.purgeCount");
        config->setString("logging.channels.file.purgeAge", "30 days");
        ConfiguredChannels channels(*config);
        CPPUNIT_ASSERT_EQUAL(std::string("30 days"),
                             channels.file().getProperty(Poco::FileChannel::PROP_PURGEAGE));
        const std::string logs = dir.file("logs");
        channels.write(0);
        channels.write(1);
        channels.write(2);
        for (const std::string& name : archivesIn(logs, true))
            if (unitIn(logs, name) == 0) setAge(logs + "/" + name, Poco::Timespan(31, 0, 0, 0, 0));
        CPPUNIT_ASSERT_EQUAL(std::string("0 1"), unitsHeld(logs, archivesIn(logs, true)));
        channels.write(3);  // rotates, and purges what is older than 30 days
        CPPUNIT_ASSERT_EQUAL(std::string("1 2"), unitsHeld(logs, archivesIn(logs, true)));
    }

  private:
    // Writes units 0 to 6; each line after the first rotates the file (a ~1.1 KB line takes it past
    // 1 K). After each rotation the archive is let finish compressing and is given an age of its
    // own — Poco compares file times in whole seconds; this makes the oldest certain — and
    // `check(unit, archives)` looks at what is there.
    template <class Check>
    void rotate(ConfiguredChannels& channels, const std::string& logs, bool compressed, Check check) {
        const int units = 6;
        channels.write(0);
        for (int unit = 1; unit <= units; ++unit) {
            channels.write(unit);
            std::vector<std::string> archives = archivesIn(logs, compressed);
            check(unit, archives);
            for (const std::string& name : archives)
                if (unitIn(logs, name) == unit - 1)
                    setAge(logs + "/" + name, Poco::Timespan(0, 1, 0, units - unit, 0));  // older first
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LogRotationTest);
