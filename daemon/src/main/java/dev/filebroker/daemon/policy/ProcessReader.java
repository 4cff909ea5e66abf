package dev.filebroker.daemon.policy;

import dev.filebroker.daemon.toml.TomlTable;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads the keys that narrow a rule's subject to processes: {@code executables} (absolute paths)
 * and {@code units} (systemd unit names, or a user manager's unit).
 */
final class ProcessReader {
  private static final Pattern UNIT = Pattern.compile("[A-Za-z0-9:_.\\\\@-]{1,255}");
  private static final Pattern USER_MANAGER = Pattern.compile("user@[0-9]+\\.service");

  private final RuleValues values;

  ProcessReader(RuleValues values) {
    this.values = values;
  }

  List<String> executables(TomlTable table) {
    return readStrings(
        table,
        "executables",
        "executables = [\"/usr/bin/myapp\"]",
        text -> {
          if (text.indexOf('*') >= 0) {
            return Optional.of(
                "executable '"
                    + text
                    + "' has '*'; executables are matched exactly: list each"
                    + " program's absolute path");
          }
          if (text.startsWith("${")) {
            return Optional.of("executable '" + text + "' uses a variable; write the path");
          }
          return PathPattern.problem(text)
              .map(problem -> problem.replaceFirst("^path", "executable"));
        });
  }

  List<String> units(TomlTable table) {
    return readStrings(
        table,
        "units",
        "units = [\"myapp.service\"]",
        text -> {
          // "user@1000.service/app.service": a unit of that user's manager.
          int slash = text.indexOf('/');
          if (slash >= 0
              && !(USER_MANAGER.matcher(text.substring(0, slash)).matches()
                  && isUnitName(text.substring(slash + 1)))) {
            return Optional.of(
                "unit '"
                    + text
                    + "' is not a user unit; write the user's manager, a '/' and the unit,"
                    + " as in \"user@1000.service/myapp.service\"");
          }
          return isUnitName(text.substring(slash + 1))
              ? Optional.empty()
              : Optional.of(
                  "unit '"
                      + text
                      + "' is not a systemd unit name; write the full name with"
                      + " its type, as in \"myapp.service\" or \"session-2.scope\"");
        });
  }

  private static boolean isUnitName(String text) {
    return UNIT.matcher(text).matches() && text.lastIndexOf('.') > 0;
  }

  private List<String> readStrings(
      TomlTable table, String key, String example, Function<String, Optional<String>> problem) {
    return values
        .list(
            table,
            key,
            example,
            "list at least one, as in " + example + ", or remove it",
            (element, at) -> {
              if (!(element instanceof String text)) {
                values.error(
                    at,
                    "each of '" + key + "' must be a string; found " + RuleValues.kind(element));
                return Optional.<String>empty();
              }
              Optional<String> wrong = problem.apply(text);
              wrong.ifPresent(w -> values.error(at, w));
              return wrong.isPresent() ? Optional.<String>empty() : Optional.of(text);
            })
        .orElse(List.of());
  }
}
