package dev.filebroker.daemon.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.filebroker.daemon.policy.PolicyLoad;
import dev.filebroker.daemon.policy.PolicyLoader;
import dev.filebroker.daemon.server.PolicyHolder;
import dev.filebroker.daemon.server.Statistics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Request lines in, response lines out, against a real policy and a recording handler. */
class ControlProtocolTest {
  @TempDir Path temp;
  private PolicyHolder.Loaded policy;
  private RecordingHandler handler;

  /** Answers with a real policy and counts reloads. */
  private final class RecordingHandler implements ControlHandler {
    int reloads;
    ReloadOutcome next;

    @Override
    public ReloadOutcome reload() {
      reloads++;
      return next;
    }

    @Override
    public StatusReport status() {
      return StatusReport.of(new Statistics(), policy, Instant.parse("2026-01-01T00:00:00Z"));
    }

    @Override
    public Explanation explain(ExplainQuery query) {
      return Explanation.evaluate(policy, query);
    }
  }

  @BeforeEach
  void loadPolicy() throws IOException {
    Path dir = Files.createDirectory(temp.resolve("policy.d"));
    Files.writeString(
        dir.resolve("10-test.toml"),
        """
        [[allow]]
        name = "app-reads-config"
        users = [1000]
        paths = ["/etc/app/*.conf"]
        access = ["read"]

        [[deny]]
        name = "no-secrets"
        any = true
        paths = ["/etc/app/secret.conf"]
        access = ["read"]
        """);
    PolicyLoad.Valid loaded = assertInstanceOf(PolicyLoad.Valid.class, PolicyLoader.load(dir));
    policy = new PolicyHolder.Loaded(loaded.policy(), dir, Instant.now());
    handler = new RecordingHandler();
    handler.next = new ReloadOutcome.Reloaded(dir, 2);
  }

  private Map<String, Object> answer(String line) {
    String response = ControlProtocol.answer(line, handler);
    assertTrue(!response.contains("\n"), "one response line: " + response);
    return Json.parseObject(response);
  }

  @Test
  void reloadReportsTheRuleCount() {
    Map<String, Object> r = answer("{\"command\":\"reload\"}");
    assertEquals(1, handler.reloads);
    assertEquals(true, r.get("ok"));
    assertEquals(2L, r.get("rules"));
  }

  @Test
  void rejectedReloadListsEveryErrorWithItsPosition() throws IOException {
    Path bad = temp.resolve("bad.toml");
    Files.writeString(bad, "[[allow]\n");
    PolicyLoad.Invalid invalid = assertInstanceOf(PolicyLoad.Invalid.class, PolicyLoader.load(bad));
    handler.next = new ReloadOutcome.Rejected(bad, invalid.errors());
    Map<String, Object> r = answer("{\"command\":\"reload\"}");
    assertEquals(false, r.get("ok"));
    assertTrue(((String) r.get("error")).contains("the previous policy stays in force"));
    List<?> errors = assertInstanceOf(List.class, r.get("errors"));
    assertTrue(
        ((String) errors.get(0)).startsWith(bad + ":1:"), "file:line:column: " + errors.get(0));
  }

  @Test
  void statusRoundTripsThroughJson() {
    Map<String, Object> r = answer("{\"command\":\"status\"}");
    StatusReport report = StatusReport.fromJson(r);
    assertEquals(ProcessHandle.current().pid(), report.pid());
    assertEquals(2, report.rules());
    assertEquals(policy.source().toString(), report.policySource());
    assertTrue(report.openDescriptors() > 0, "counts /proc/self/fd");
  }

  @Test
  void explainNamesTheAllowingRule() {
    Map<String, Object> r =
        answer(
            "{\"command\":\"explain\",\"uid\":1000,\"gid\":1000,\"path\":\"/etc/app/a.conf\","
                + "\"access\":[\"read\"]}");
    assertEquals("allow", r.get("decision"));
    Map<?, ?> rule = assertInstanceOf(Map.class, r.get("rule"));
    assertEquals("app-reads-config", rule.get("id"));
    assertEquals(policy.source().resolve("10-test.toml") + ":1", rule.get("source"));
  }

  @Test
  void explainNamesTheDenyingRule() {
    Map<String, Object> r =
        answer(
            "{\"command\":\"explain\",\"uid\":1000,\"gid\":1000,"
                + "\"path\":\"/etc/app/secret.conf\",\"access\":[\"read\"]}");
    assertEquals("deny", r.get("decision"));
    assertEquals("no-secrets", ((Map<?, ?>) r.get("rule")).get("id"));
  }

  @Test
  void explainOfDefaultDenialHasNoRuleButAReason() {
    Map<String, Object> r =
        answer(
            "{\"command\":\"explain\",\"uid\":1001,\"gid\":1001,\"path\":\"/etc/app/a.conf\","
                + "\"access\":[\"read\",\"write\"]}");
    assertEquals("deny", r.get("decision"));
    assertTrue(!r.containsKey("rule"), r.toString());
    assertTrue(((String) r.get("reason")).startsWith("no allow rule grants"), r.toString());
  }

  @Test
  void malformedRequestsAreErrorsThatNameTheProblem() {
    assertEquals(
        "malformed request: unknown command 'restart'; expected one of: explain, reload, status",
        answer("{\"command\":\"restart\"}").get("error"));
    assertEquals("malformed request: 'command' must be a string", answer("{}").get("error"));
    assertTrue(((String) answer("reload").get("error")).startsWith("malformed request: "));
    assertEquals(
        "malformed request: 'access' has unknown permission 'execute'; expected: read, write,"
            + " append, create, truncate, directory",
        answer(
                "{\"command\":\"explain\",\"uid\":1,\"gid\":1,\"path\":\"/x\","
                    + "\"access\":[\"execute\"]}")
            .get("error"));
    assertEquals(0, handler.reloads);
  }

  @Test
  void explainQueryRoundTrips() {
    ExplainQuery q =
        ExplainQuery.fromJson(
            Json.parseObject(
                "{\"uid\":4294967294,\"gid\":5,\"groups\":[7,8],\"exe\":\"/usr/bin/x\","
                    + "\"path\":\"/d\",\"access\":[\"write\",\"read\"],\"directory\":true}"));
    assertEquals(-2, q.caller().uid());
    assertEquals(q, ExplainQuery.fromJson(q.toJson()));
  }
}
