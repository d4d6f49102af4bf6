#pragma once
// PostgreSQL text format <-> berth::Json: cells decoded by their type OID (PQftype), parameters
// encoded as the text PostgreSQL parses ($1..$n, sent in text format with types inferred by the
// server). Pure functions, so the unit tests cover them without a server.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/json.h"

namespace berth::server::pg {

/// A cell in text format as the JSON value of its type (see berth/db.h for the mapping).
Json decodeCell(std::uint32_t typeOid, std::string_view text);

/// A parameter as text, or nullopt for SQL NULL. Arrays become PostgreSQL array literals,
/// objects JSON text.
std::optional<std::string> encodeParam(const Json& value);

}  // namespace berth::server::pg
