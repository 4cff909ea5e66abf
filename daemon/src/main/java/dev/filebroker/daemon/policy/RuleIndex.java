package dev.filebroker.daemon.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A read-only index of rules by path and subject, so that a decision looks at the few rules that
 * could apply rather than at all of them.
 *
 * <p>Patterns live in a trie of their literal leading components: a fully literal pattern sits at
 * its last component, a pattern with a wildcard hangs at the deepest literal component before it. A
 * lookup walks the request path down the trie (one step per component) and, at each node, reads
 * only the entries for the caller's uid, primary and supplementary gids, and {@code any}, plus the
 * entries whose subject is a uid or gid range (checked one by one: keep ranges few). Patterns with
 * variables hang at the deepest literal component before the first variable ({@code ${home}}
 * patterns at the root). The cost grows with path depth and with how many rules share one node and
 * one subject, not with the total number of rules. Built once, never changed: safe to share between
 * threads.
 */
final class RuleIndex {
  /** One pattern of one rule. */
  record Entry(Rule rule, PathPattern pattern) {}

  private static final Entry[] NONE = {};

  private final Node root;

  RuleIndex(List<Rule> rules) {
    NodeBuilder rootBuilder = new NodeBuilder();
    for (Rule rule : rules) {
      for (PathPattern pattern : rule.paths()) {
        NodeBuilder node = rootBuilder;
        for (String component : pattern.literalPrefix()) {
          node = node.child(component);
        }
        BucketBuilder bucket = pattern.isLiteral() ? node.exact : node.hanging;
        Entry entry = new Entry(rule, pattern); // one for all of the rule's subjects
        for (Subject subject : rule.subjects()) {
          bucket.add(subject, entry);
        }
      }
    }
    this.root = rootBuilder.build();
  }

  /**
   * Offers {@code evaluation} every entry whose literal part fits {@code path} and whose subject is
   * the caller, in no particular order.
   */
  void lookup(String[] path, Caller caller, Evaluation evaluation) {
    Node node = root;
    int depth = 0;
    while (true) {
      offer(node.hanging, caller, evaluation, false);
      if (depth == path.length) {
        offer(node.exact, caller, evaluation, true);
        return;
      }
      node = node.children.get(path[depth++]);
      if (node == null) {
        return;
      }
    }
  }

  private static void offer(Bucket bucket, Caller caller, Evaluation evaluation, boolean exact) {
    if (bucket.empty) {
      return;
    }
    offerAll(bucket.anyone, evaluation, exact);
    for (Ranged ranged : bucket.ranged) {
      if (ranged.subject.matches(caller)) {
        evaluation.consider(ranged.entry, exact);
      }
    }
    offerAll(bucket.byUid.getOrDefault(caller.uid(), NONE), evaluation, exact);
    offerAll(bucket.byGid.getOrDefault(caller.gid(), NONE), evaluation, exact);
    for (Integer gid : caller.groups()) {
      if (gid != caller.gid()) {
        offerAll(bucket.byGid.getOrDefault(gid, NONE), evaluation, exact);
      }
    }
  }

  private static void offerAll(Entry[] entries, Evaluation evaluation, boolean exact) {
    for (Entry entry : entries) {
      evaluation.consider(entry, exact);
    }
  }

  private record Node(Map<String, Node> children, Bucket exact, Bucket hanging) {}

  private record Ranged(Subject subject, Entry entry) {}

  private record Bucket(
      Map<Integer, Entry[]> byUid,
      Map<Integer, Entry[]> byGid,
      Entry[] anyone,
      Ranged[] ranged,
      boolean empty) {}

  private static final Ranged[] NO_RANGES = {};

  private static final Bucket EMPTY = new Bucket(Map.of(), Map.of(), NONE, NO_RANGES, true);

  // Built once per load for every pattern component (hundreds of thousands at 100,000 rules):
  // maps and lists are made only when something goes in, and empty ones are shared.
  private static final class NodeBuilder {
    private static final int PARALLEL_CHILDREN = 256;

    Map<String, NodeBuilder> children = Map.of();
    final BucketBuilder exact = new BucketBuilder();
    final BucketBuilder hanging = new BucketBuilder();

    NodeBuilder child(String component) {
      if (children.isEmpty()) {
        children = new HashMap<>(2);
      }
      return children.computeIfAbsent(component, c -> new NodeBuilder());
    }

    Node build() {
      if (children.isEmpty()) {
        return new Node(Map.of(), exact.build(), hanging.build());
      }
      List<Map.Entry<String, NodeBuilder>> entries = List.copyOf(children.entrySet());
      Node[] nodes = new Node[entries.size()];
      // A node with many children (one per user, say) builds them on every processor.
      IntStream range = IntStream.range(0, nodes.length);
      (nodes.length >= PARALLEL_CHILDREN ? range.parallel() : range)
          .forEach(i -> nodes[i] = entries.get(i).getValue().build());
      Map<String, Node> built = new HashMap<>(nodes.length * 2);
      for (int i = 0; i < nodes.length; i++) {
        built.put(entries.get(i).getKey(), nodes[i]);
      }
      return new Node(Map.copyOf(built), exact.build(), hanging.build());
    }
  }

  // The builders of every node live until the whole index is built, so they hold only what was
  // added; entries are grouped by subject when a bucket is built, and the groups die young.
  private static final class BucketBuilder {
    private record Added(Subject subject, Entry entry) {}

    private List<Added> added = List.of();

    void add(Subject subject, Entry entry) {
      if (added.isEmpty()) {
        added = new ArrayList<>(2);
      }
      added.add(new Added(subject, entry));
    }

    Bucket build() {
      if (added.isEmpty()) {
        return EMPTY;
      }
      Map<Integer, List<Entry>> byUid = Map.of();
      Map<Integer, List<Entry>> byGid = Map.of();
      List<Entry> anyone = List.of();
      List<Ranged> ranged = List.of();
      for (Added each : added) {
        Entry entry = each.entry();
        switch (each.subject()) {
          case Subject.User user -> byUid = add(byUid, user.uid(), entry);
          case Subject.Group group -> byGid = add(byGid, group.gid(), entry);
          case Subject.Anyone anyoneSubject -> anyone = add(anyone, entry);
          case Subject.UidRange range -> ranged = add(ranged, new Ranged(range, entry));
          case Subject.GidRange range -> ranged = add(ranged, new Ranged(range, entry));
        }
      }
      return new Bucket(
          freeze(byUid),
          freeze(byGid),
          anyone.isEmpty() ? NONE : anyone.toArray(Entry[]::new),
          ranged.isEmpty() ? NO_RANGES : ranged.toArray(Ranged[]::new),
          false);
    }

    private static Map<Integer, List<Entry>> add(
        Map<Integer, List<Entry>> map, int id, Entry entry) {
      Map<Integer, List<Entry>> mutable = map.isEmpty() ? new HashMap<>(4) : map;
      mutable.computeIfAbsent(id, k -> new ArrayList<>(1)).add(entry);
      return mutable;
    }

    private static <T> List<T> add(List<T> list, T element) {
      List<T> mutable = list.isEmpty() ? new ArrayList<>(1) : list;
      mutable.add(element);
      return mutable;
    }

    // Compact immutable maps (one array, no entry objects): most buckets hold one or two ids.
    private static Map<Integer, Entry[]> freeze(Map<Integer, List<Entry>> lists) {
      if (lists.isEmpty()) {
        return Map.of();
      }
      if (lists.size() == 1) {
        Map.Entry<Integer, List<Entry>> only = lists.entrySet().iterator().next();
        return Map.of(only.getKey(), only.getValue().toArray(Entry[]::new));
      }
      Map<Integer, Entry[]> frozen = new HashMap<>(lists.size() * 2);
      lists.forEach((id, entries) -> frozen.put(id, entries.toArray(Entry[]::new)));
      return Map.copyOf(frozen);
    }
  }
}
