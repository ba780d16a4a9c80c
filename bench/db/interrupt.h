#pragma once

// Ctrl-C and SIGTERM end the bench cleanly: every wait and load loop checks interrupted() and
// returns early, so that main stops the servers and removes the data directories.
// Thread-safe: any thread may call interrupted().

namespace spofless::bench {

// Installs handlers for SIGINT and SIGTERM that set the flag; ignores SIGPIPE (a server that
// dies mid-request must fail the request, not the bench). Call once, early in main.
void install_interrupt_handlers();
bool interrupted();

}  // namespace spofless::bench
