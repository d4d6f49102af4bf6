#include "migrator.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "migration_plan.h"
#include "migration_store.h"

namespace berth::server {
namespace {

struct PluginInDatabase {
    std::string plugin;
    std::vector<Migration> migrations;
};

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

std::string label(const std::string& plugin, const Migration& m) {
    return plugin + " " + std::to_string(m.version) + " (" + m.description + ")";
}

}  // namespace

Migrator::Migrator(std::vector<DatabaseSettings> databases, Say say)
    : databases_(std::move(databases)), say_(std::move(say)) {}

const DatabaseSettings& Migrator::database(const std::string& name) const {
    for (const DatabaseSettings& db : databases_)
        if (db.name == name) return db;
    throw MigrationDatabaseError("no database '" + name + "' in berth.properties");
}

MigrateOutcome Migrator::run(const std::vector<PluginMigrations>& plugins, const MigrateOptions& options) {
    outcome_ = MigrateOutcome::Ok;
    MigrateOutcome& outcome = outcome_;
    auto worst = [&](MigrateOutcome o) { outcome = std::max(outcome, o); };

    if (options.plugin) {
        bool known = std::any_of(plugins.begin(), plugins.end(),
                                 [&](const PluginMigrations& p) { return p.plugin == *options.plugin; });
        if (!known) {
            say_(true, "plugin '" + *options.plugin +
                           "' is not loaded (not in plugins.dir, disabled, or refused; berthd --check-config "
                           "tells)");
            return MigrateOutcome::Refused;
        }
    }

    // database → its plugins, in start order.
    std::vector<std::string> order;
    std::map<std::string, std::vector<PluginInDatabase>> byDatabase;
    for (const PluginMigrations& p : plugins) {
        if (options.plugin && p.plugin != *options.plugin) continue;
        for (const Migration& m : p.migrations) {
            auto& list = byDatabase[m.database];
            if (list.empty()) order.push_back(m.database);
            if (list.empty() || list.back().plugin != p.plugin) list.push_back({p.plugin, {}});
            list.back().migrations.push_back(m);
        }
    }
    if (order.empty()) {
        say_(false, options.plugin ? "plugin '" + *options.plugin + "' declares no migrations"
                                   : "no loaded plugin declares migrations");
        return outcome;
    }
    std::sort(order.begin(), order.end());

    for (const std::string& name : order) {
        std::vector<PluginInDatabase>& list = byDatabase[name];
        MigrationStore store(database(name));
        if (options.action != MigrateAction::Status)
            store.lock(
                [&](const std::string& holder) {
                    say_(false, "database '" + name + "': waiting for the migration lock, held by " + holder +
                                    " (another berthd migrating?); giving up after " +
                                    std::to_string(options.lockWait.timeoutS) + " s");
                },
                options.lockWait);
        std::vector<AppliedMigration> applied = store.applied();

        if (options.action == MigrateAction::Status) {
            say_(false, "database '" + name + "' (" + store.table() + "):");
            say_(false, "  " + pad("PLUGIN", 20) + " " + pad("VERSION", 10) + " " + pad("STATE", 12) + " " +
                            pad("APPLIED AT", 20) + " DESCRIPTION");
            auto line = [&](const MigrationStatus& m, const std::string& state, const std::string& note) {
                const std::string& what = m.declared ? m.declared->description : m.applied->description;
                say_(false, "  " + pad(m.plugin, 20) + " " + pad(std::to_string(m.version), 10) + " " +
                                pad(state, 12) + " " + pad(m.applied ? m.applied->appliedAt : "-", 20) + " " +
                                what + note);
            };
            for (const PluginInDatabase& p : list) {
                std::vector<MigrationStatus> status = compareMigrations(p.plugin, p.migrations, applied);
                for (const MigrationStatus& m : status) {
                    std::string note;
                    if (std::optional<std::int64_t> above = appliedAbove(status, m))
                        note = "  [out of order: " + std::to_string(*above) + " is applied]";
                    line(m, stateName(m.state), note);
                    if (m.state == MigrationState::Changed || m.state == MigrationState::Missing)
                        worst(MigrateOutcome::Refused);
                }
            }
            // Rows of plugins that are not loaded here (removed, disabled, refused, or declaring
            // their migrations for this database no more): listed, not counted as a problem.
            if (!options.plugin) {
                for (const AppliedMigration& a : applied) {
                    bool listed = std::any_of(list.begin(), list.end(), [&](const PluginInDatabase& p) {
                        return p.plugin == a.plugin;
                    });
                    if (listed) continue;
                    bool loaded = std::find(options.loadedPlugins.begin(), options.loadedPlugins.end(),
                                            a.plugin) != options.loadedPlugins.end();
                    MigrationStatus m;
                    m.plugin = a.plugin;
                    m.version = a.version;
                    m.applied = a;
                    line(m, loaded ? "missing" : "not loaded", "");
                    if (loaded) worst(MigrateOutcome::Refused);
                }
            }
            continue;
        }

        bool up = options.action == MigrateAction::Up;
        if (!up) std::reverse(list.begin(), list.end());
        std::size_t done = 0;
        for (const PluginInDatabase& p : list) {
            std::vector<MigrationStatus> steps;
            try {
                std::vector<MigrationStatus> status = compareMigrations(p.plugin, p.migrations, applied);
                steps =
                    up ? planUp(status, options.to, options.allowOutOfOrder) : planDown(status, options.to);
            } catch (const MigrationRefused& e) {
                say_(true, "database '" + name + "': " + e.what());
                worst(MigrateOutcome::Refused);
                continue;
            }
            for (const MigrationStatus& step : steps) {
                const Migration& m = *step.declared;
                auto started = std::chrono::steady_clock::now();
                try {
                    if (up)
                        store.apply(p.plugin, m, step.checksum);
                    else
                        store.revert(p.plugin, m);
                } catch (const MigrationFailed& e) {
                    say_(true, "database '" + name + "': " + (up ? "applying " : "rolling back ") +
                                   label(p.plugin, m) + ": " + e.what() +
                                   (e.rolledBack() ? std::string("; nothing of it was ") +
                                                         (up ? "applied" : "rolled back")
                                                   : std::string()) +
                                   "; later migrations of '" + p.plugin + "' were not tried");
                    worst(MigrateOutcome::Failed);
                    break;
                }
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
                say_(false, "database '" + name + "': " + (up ? "applied " : "rolled back ") +
                                label(p.plugin, m) + " in " + std::to_string(ms) + " ms");
                ++done;
            }
        }
        if (done == 0 && outcome == MigrateOutcome::Ok)
            say_(false, "database '" + name + "': nothing to " + (up ? "apply" : "roll back"));
    }
    return outcome;
}

}  // namespace berth::server
