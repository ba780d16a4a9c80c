// spofless: one binary, one subcommand per role. This is the only place that picks real
// adapters; everything it calls is a library.

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "roles/analyze/analyze_command.h"
#include "roles/common/cli.h"
#include "roles/db/db_command.h"

int main(int argc, char** argv) {
  using namespace spofless::roles;
  CLI::App app{
      "spofless: a service with no single point of failure, and the tools that prove it.\n"
      "Run `spofless <command> --help` for a command's flags.",
      "spofless"};
  app.require_subcommand(1);
  app.fallthrough(false);

  CLI::App* version_cmd = app.add_subcommand("version", "Print the version and exit");
  AnalyzeCommand analyze(app);
  DbCommand db(app);

  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      names.push_back(sub->get_name());
    }
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      fmt::print(stderr, "spofless: unknown command '{}' (commands: {})\nRun `spofless --help`.\n",
                 argv[1], fmt::join(names, ", "));
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (analyze.selected()) return analyze.run();
  if (db.selected()) return db.run();
  if (version_cmd->parsed()) {
    fmt::print("spofless {}\n", version());
    return kExitOk;
  }
  return kExitUsage;
}
