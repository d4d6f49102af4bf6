#include "migration_plan.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <map>

namespace berth::server {
namespace {

std::string describe(const MigrationStatus& m) {
    std::string text = "migration " + m.plugin + " " + std::to_string(m.version);
    std::string what = m.declared ? m.declared->description : m.applied ? m.applied->description : "";
    if (!what.empty()) text += " (" + what + ")";
    return text;
}

void refuseChanged(const MigrationStatus& m) {
    throw MigrationRefused(describe(m) + " was applied with checksum " + m.applied->checksum.substr(0, 12) +
                           "… but its SQL now has checksum " + m.checksum.substr(0, 12) +
                           "…: an applied migration must not be edited. Restore its SQL and add a new "
                           "migration for the change; not migrating plugin '" +
                           m.plugin + "'");
}

}  // namespace

std::string migrationChecksum(const Migration& migration) {
    Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
    // Lengths first, so that moving text between up and down changes the checksum too.
    std::string framed = std::to_string(migration.up.size()) + ":" + migration.up + "\n" +
                         std::to_string(migration.down.size()) + ":" + migration.down;
    sha.update(framed);
    return Poco::DigestEngine::digestToHex(sha.digest());
}

const char* stateName(MigrationState state) noexcept {
    switch (state) {
        case MigrationState::Applied:
            return "applied";
        case MigrationState::Pending:
            return "pending";
        case MigrationState::Changed:
            return "changed";
        case MigrationState::Missing:
            return "missing";
    }
    return "?";
}

std::vector<MigrationStatus> compareMigrations(const std::string& plugin,
                                               const std::vector<Migration>& declared,
                                               const std::vector<AppliedMigration>& applied) {
    std::map<std::int64_t, MigrationStatus> byVersion;
    for (const Migration& m : declared) {
        MigrationStatus& s = byVersion[m.version];
        s.plugin = plugin;
        s.version = m.version;
        s.declared = m;
        s.checksum = migrationChecksum(m);
        s.state = MigrationState::Pending;
    }
    for (const AppliedMigration& a : applied) {
        if (a.plugin != plugin) continue;
        MigrationStatus& s = byVersion[a.version];
        s.plugin = plugin;
        s.version = a.version;
        s.applied = a;
        if (!s.declared)
            s.state = MigrationState::Missing;
        else
            s.state = s.checksum == a.checksum ? MigrationState::Applied : MigrationState::Changed;
    }
    std::vector<MigrationStatus> out;
    for (auto& [version, s] : byVersion) out.push_back(std::move(s));
    return out;
}

std::vector<MigrationStatus> planUp(const std::vector<MigrationStatus>& status,
                                    std::optional<std::int64_t> to) {
    std::vector<MigrationStatus> steps;
    for (const MigrationStatus& m : status) {
        if (m.state == MigrationState::Changed) refuseChanged(m);
        if (m.state == MigrationState::Pending && (!to || m.version <= *to)) steps.push_back(m);
    }
    return steps;
}

std::vector<MigrationStatus> planDown(const std::vector<MigrationStatus>& status,
                                      std::optional<std::int64_t> to) {
    std::vector<MigrationStatus> steps;
    for (auto it = status.rbegin(); it != status.rend(); ++it) {
        if (!it->applied) continue;
        if (to ? it->version <= *to : !steps.empty()) continue;
        steps.push_back(*it);
    }
    for (const MigrationStatus& m : steps) {
        if (m.state == MigrationState::Changed) refuseChanged(m);
        if (m.state == MigrationState::Missing)
            throw MigrationRefused(describe(m) +
                                   " is recorded as applied but the plugin no longer declares it, so there "
                                   "is no down SQL to run; not migrating plugin '" +
                                   m.plugin + "'");
        if (m.declared->down.find_first_not_of(" \t\r\n") == std::string::npos)
            throw MigrationRefused(describe(m) +
                                   " has no down SQL and cannot be rolled back; not migrating plugin '" +
                                   m.plugin + "'");
    }
    return steps;
}

}  // namespace berth::server
