#pragma once
// berthd as a Poco ServerApplication: options, config files, plugins, HTTP, and an orderly
// shutdown on SIGTERM/SIGINT.

#include <Poco/Util/ServerApplication.h>
#include <optional>
#include <string>
#include <vector>

namespace berth::server {

class BerthApplication : public Poco::Util::ServerApplication {
  public:
    /// `launchDir` is the working directory berthd was started in: --daemon changes to "/"
    /// before options are read, so relative paths are resolved against this instead.
    explicit BerthApplication(std::string launchDir);

  protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    void initialize(Poco::Util::Application& self) override;
    int main(const std::vector<std::string>& args) override;

  private:
    void printHelp();
    int checkConfig();
    int serve();
    /// `berthd migrate status|up|down [--plugin NAME | --all] [--to VERSION] [--allow-out-of-order]`.
    int migrate(const std::vector<std::string>& args);

    std::string launchDir_;
    std::string configFile_;
    std::string configError_;
    bool helpRequested_ = false;
    bool versionRequested_ = false;
    bool checkOnly_ = false;
    std::optional<std::string> migratePlugin_;  // --plugin (given, maybe empty)
    std::optional<std::string> migrateTo_;      // --to
    bool migrateAll_ = false;                   // --all
    bool allowOutOfOrder_ = false;              // --allow-out-of-order
    std::string optionError_;
};

}  // namespace berth::server
