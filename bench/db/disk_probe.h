#pragma once

// How long fsync takes on the disk under the data directories, measured the way a write-ahead
// log uses it (append, then fsync), so that the report says what the disk cost while both
// systems ran. The host may be shared: a probe before and after the run shows drift.

#include <string>

#include "core/result.h"

namespace spofless::bench {

struct DiskProbe {
  double p50_ms = 0;
  double max_ms = 0;
};

// Appends kDiskProbeWrites blocks of 4 KiB to a file in `dir`, fdatasync after each, then
// removes the file. Fails with unavailable naming the file and errno.
Result<DiskProbe> probe_fsync(const std::string& dir);

}  // namespace spofless::bench
