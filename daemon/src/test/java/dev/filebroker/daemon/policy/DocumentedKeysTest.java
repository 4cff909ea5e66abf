package dev.filebroker.daemon.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.filebroker.daemon.config.DaemonConfigLoader;
import dev.filebroker.daemon.endpoint.EndpointReader;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every key the loaders accept is documented where its user looks: policy and test-case keys in
 * filebroker-policy(5) and docs/policy.md, daemon configuration keys in filebroker(8). The key
 * lists are read from the loaders themselves, so a key added there without its documentation fails
 * here.
 */
class DocumentedKeysTest {
  private static final Path HOME = RepositoryRoot.find();

  @Test
  void everyPolicyKeyIsInThePolicyManPageAndInDocsPolicy() throws IOException {
    List<String> keys = new ArrayList<>(RuleReader.ALLOW_KEYS);
    assertEquals(List.of(), undocumentedInMan(keys, "packaging/man/filebroker-policy.5"));
    assertEquals(List.of(), undocumentedInMarkdown(keys, "docs/policy.md"));
  }

  @Test
  void everyTestCaseKeyIsInThePolicyManPageAndInDocsPolicy() throws IOException {
    assertEquals(
        List.of(), undocumentedInMan(PolicyTests.CASE_KEYS, "packaging/man/filebroker-policy.5"));
    assertEquals(List.of(), undocumentedInMarkdown(PolicyTests.CASE_KEYS, "docs/policy.md"));
  }

  @Test
  void everyConfigurationKeyIsInTheDaemonManPage() throws Exception {
    List<String> keys = new ArrayList<>();
    for (String field : List.of("TOP_KEYS", "AUDIT_KEYS", "LIMIT_KEYS")) {
      keys.addAll(constant(DaemonConfigLoader.class, field));
    }
    keys.addAll(constant(EndpointReader.class, "KEYS"));
    assertEquals(List.of(), undocumentedInMan(keys, "packaging/man/filebroker.8"));
  }

  @Test
  void theCheckSeesAKeyThatIsMissing() throws IOException {
    assertEquals(
        List.of("no_such_key_anywhere"),
        undocumentedInMan(
            List.of("paths", "no_such_key_anywhere"), "packaging/man/filebroker-policy.5"));
    assertEquals(
        List.of("no_such_key_anywhere"),
        undocumentedInMarkdown(List.of("paths", "no_such_key_anywhere"), "docs/policy.md"));
  }

  /** Keys that the man page never sets in bold (on a font macro line, or after {@code \\fB}). */
  private static List<String> undocumentedInMan(Collection<String> keys, String page)
      throws IOException {
    String text = Files.readString(HOME.resolve(page)).replace("\\-", "-");
    return missing(
        keys,
        text,
        key -> "^\\.(B|BR|RB|BI|IB)\\s.*(?<![\\w-])" + key + "(?![\\w-])|\\\\fB" + key + "\\\\f");
  }

  /** Keys that the Markdown page never writes as code ({@code `key`} or {@code `key = ...`}). */
  private static List<String> undocumentedInMarkdown(Collection<String> keys, String page)
      throws IOException {
    String text = Files.readString(HOME.resolve(page));
    return missing(keys, text, key -> "`" + key + "( = [^`]*)?`|^" + key + " = ");
  }

  private static List<String> missing(
      Collection<String> keys, String text, java.util.function.Function<String, String> regex) {
    List<String> missing = new ArrayList<>();
    for (String key : new TreeSet<>(keys)) {
      if (!Pattern.compile(regex.apply(Pattern.quote(key)), Pattern.MULTILINE)
          .matcher(text)
          .find()) {
        missing.add(key);
      }
    }
    return missing;
  }

  @SuppressWarnings("unchecked")
  private static Collection<String> constant(Class<?> owner, String name) throws Exception {
    Field field = owner.getDeclaredField(name);
    field.setAccessible(true);
    return (Collection<String>) field.get(null);
  }
}
