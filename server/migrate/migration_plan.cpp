#include "migration_plan.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <cctype>
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

std::string sha256(const std::string& text) {
    Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
    sha.update(text);
    return Poco::DigestEngine::digestToHex(sha.digest());
}

bool isWordStart(unsigned char c) {
    return std::isalpha(c) != 0 || c == '_' || c >= 0x80;
}
bool isWordChar(unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '$' || c >= 0x80;
}

// `at` is on the opening quote; returns the index after the closing one (doubled quotes are part
// of the text; with `backslash`, so is the character after a backslash).
std::size_t skipQuoted(const std::string& sql, std::size_t at, char quote, bool backslash) {
    std::size_t i = at + 1;
    while (i < sql.size()) {
        if (backslash && sql[i] == '\\') {
            i += 2;
        } else if (sql[i] == quote) {
            if (i + 1 < sql.size() && sql[i + 1] == quote)
                i += 2;
            else
                return i + 1;
        } else {
            ++i;
        }
    }
    return sql.size();
}

}  // namespace

std::vector<std::vector<std::string>> sqlStatementHeads(const std::string& sql) {
    constexpr std::size_t kHeadWords = 3;
    std::vector<std::vector<std::string>> statements;
    std::vector<std::string> head;
    bool any = false;
    bool create = false;
    std::string previous;
    int atomicDepth = 0;  // inside CREATE FUNCTION … BEGIN ATOMIC … END, ';' does not end the statement
    auto word = [&](std::string w) {
        if (!any) create = w == "CREATE";
        any = true;
        if (create) {
            if (w == "ATOMIC" && previous == "BEGIN")
                ++atomicDepth;
            else if (atomicDepth > 0 && w == "CASE")
                ++atomicDepth;
            else if (atomicDepth > 0 && w == "END")
                --atomicDepth;
        }
        previous = w;
        if (head.size() < kHeadWords) head.push_back(std::move(w));
    };
    const std::size_t n = sql.size();
    std::size_t i = 0;
    while (i < n) {
        const char c = sql[i];
        if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            int depth = 1;  // PostgreSQL's block comments nest
            i += 2;
            while (i < n && depth > 0) {
                if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
                    ++depth;
                    i += 2;
                } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
                    --depth;
                    i += 2;
                } else {
                    ++i;
                }
            }
        } else if (std::isspace(static_cast<unsigned char>(c)) != 0) {
            ++i;
        } else if (c == ';') {
            ++i;
            if (atomicDepth > 0) continue;
            if (any) statements.push_back(std::move(head));
            head.clear();
            any = false;
            create = false;
            previous.clear();
        } else if (c == '\'' || c == '"') {
            i = skipQuoted(sql, i, c, false);
            word("");
        } else if (c == '$') {
            std::size_t j = i + 1;
            if (j < n && isWordStart(static_cast<unsigned char>(sql[j])))
                while (j < n && isWordChar(static_cast<unsigned char>(sql[j])) && sql[j] != '$') ++j;
            if (j < n && sql[j] == '$') {  // $$ or $tag$: a dollar-quoted body
                std::string tag = sql.substr(i, j - i + 1);
                std::size_t end = sql.find(tag, j + 1);
                i = end == std::string::npos ? n : end + tag.size();
                word("");
            } else {
                i = j;  // $1, a parameter
                any = true;
            }
        } else if (isWordStart(static_cast<unsigned char>(c))) {
            std::size_t j = i;
            while (j < n && isWordChar(static_cast<unsigned char>(sql[j]))) ++j;
            std::string w = sql.substr(i, j - i);
            for (char& ch : w) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            if (w == "E" && j < n && sql[j] == '\'') {  // E'…': backslash escapes
                i = skipQuoted(sql, j, '\'', true);
                word("");
            } else {
                i = j;
                word(std::move(w));
            }
        } else {
            if (std::isdigit(static_cast<unsigned char>(c)) != 0) {  // a number, such as 1e5
                while (i < n && isWordChar(static_cast<unsigned char>(sql[i]))) ++i;
            } else {
                ++i;
            }
            any = true;
        }
    }
    if (any) statements.push_back(std::move(head));
    return statements;
}

std::string migrationSqlProblem(const std::string& sql) {
    std::vector<std::vector<std::string>> statements = sqlStatementHeads(sql);
    if (statements.empty()) return "it holds no SQL statement (only blanks or comments)";
    for (std::size_t k = 0; k < statements.size(); ++k) {
        const std::vector<std::string>& w = statements[k];
        if (w.empty()) continue;
        auto at = [&](std::size_t i) { return i < w.size() ? w[i] : std::string(); };
        std::string found;
        if (w[0] == "BEGIN" || w[0] == "COMMIT" || w[0] == "END" || w[0] == "ABORT")
            found = w[0];
        else if (w[0] == "START" && at(1) == "TRANSACTION")
            found = "START TRANSACTION";
        else if (w[0] == "PREPARE" && at(1) == "TRANSACTION")
            found = "PREPARE TRANSACTION";
        else if (w[0] == "ROLLBACK" && at(1) != "TO" && at(2) != "TO")
            found = "ROLLBACK";
        if (!found.empty())
            return "statement " + std::to_string(k + 1) + " is " + found +
                   ": a migration runs in a transaction the host opens and commits (together with its "
                   "berth_migrations row), so its SQL must not begin or end one (SAVEPOINT, RELEASE and "
                   "ROLLBACK TO SAVEPOINT are fine)";
    }
    return "";
}

std::string migrationChecksum(const Migration& migration) {
    return sha256(migration.up);
}

std::string legacyMigrationChecksum(const Migration& migration) {
    // Lengths first, so that moving text between up and down changed the checksum too.
    return sha256(std::to_string(migration.up.size()) + ":" + migration.up + "\n" +
                  std::to_string(migration.down.size()) + ":" + migration.down);
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
            s.state = s.checksum == a.checksum || legacyMigrationChecksum(*s.declared) == a.checksum
                          ? MigrationState::Applied
                          : MigrationState::Changed;
    }
    std::vector<MigrationStatus> out;
    for (auto& [version, s] : byVersion) out.push_back(std::move(s));
    return out;
}

std::optional<std::int64_t> appliedAbove(const std::vector<MigrationStatus>& status,
                                         const MigrationStatus& m) {
    if (m.state != MigrationState::Pending) return std::nullopt;
    std::optional<std::int64_t> above;
    for (const MigrationStatus& other : status)
        if (other.applied && other.version > m.version) above = other.version;
    return above;
}

std::vector<MigrationStatus> planUp(const std::vector<MigrationStatus>& status,
                                    std::optional<std::int64_t> to, bool allowOutOfOrder) {
    std::vector<MigrationStatus> steps;
    for (const MigrationStatus& m : status) {
        if (m.state == MigrationState::Changed) refuseChanged(m);
        if (m.state == MigrationState::Pending && (!to || m.version <= *to)) steps.push_back(m);
    }
    if (!allowOutOfOrder)
        for (const MigrationStatus& m : steps)
            if (std::optional<std::int64_t> above = appliedAbove(status, m))
                throw MigrationRefused(describe(m) + " is pending but version " + std::to_string(*above) +
                                       " of the plugin is already applied: applying it now would run it "
                                       "out of order. Give it a version above " +
                                       std::to_string(*above) +
                                       ", or apply it anyway with `berthd migrate up --allow-out-of-order`; "
                                       "not migrating plugin '" +
                                       m.plugin + "'");
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
        if (sqlStatementHeads(m.declared->down).empty())
            throw MigrationRefused(describe(m) +
                                   " has no down SQL and cannot be rolled back; not migrating plugin '" +
                                   m.plugin + "'");
    }
    return steps;
}

}  // namespace berth::server
