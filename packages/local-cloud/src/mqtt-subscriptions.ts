/**
 * The broker's subscription index: a trie of topic-filter levels, so that routing a publish costs
 * about the number of topic levels times the wildcard branches on its path plus the matching
 * subscriptions, whatever the number of connected clients (mqtt-broker.ts `accept`). It gives the
 * same recipients as testing every subscription with `topicMatches` (mqtt-topics.ts), including
 * MQTT 4.7.2: a filter starting with a wildcard does not match a topic starting with `$`.
 */

interface TrieNode<S> {
  readonly children: Map<string, TrieNode<S>>;
  /** Subscribers whose filter ends at this node, with the QoS granted to that filter. */
  readonly subscribers: Map<S, 0 | 1>;
}

function node<S>(): TrieNode<S> {
  return { children: new Map(), subscribers: new Map() };
}

export class SubscriptionIndex<S> {
  private readonly root: TrieNode<S> = node();
  private count = 0;

  /** Number of (subscriber, filter) pairs indexed. */
  get size(): number {
    return this.count;
  }

  /** Indexes (or re-grants) one subscriber's filter. The filter must be valid (`validTopicFilter`). */
  add(subscriber: S, filter: string, qos: 0 | 1): void {
    let at = this.root;
    for (const level of filter.split('/')) {
      let next = at.children.get(level);
      if (!next) {
        next = node();
        at.children.set(level, next);
      }
      at = next;
    }
    if (!at.subscribers.has(subscriber)) this.count += 1;
    at.subscribers.set(subscriber, qos);
  }

  /** Removes one subscriber's filter, if indexed, and the trie branch it leaves empty. */
  remove(subscriber: S, filter: string): void {
    const path: TrieNode<S>[] = [this.root];
    const levels = filter.split('/');
    for (const level of levels) {
      const next = path[path.length - 1]?.children.get(level);
      if (!next) return;
      path.push(next);
    }
    const leaf = path[path.length - 1];
    if (!leaf?.subscribers.delete(subscriber)) return;
    this.count -= 1;
    for (let i = levels.length; i > 0; i--) {
      const at = path[i] as TrieNode<S>;
      if (at.subscribers.size > 0 || at.children.size > 0) break;
      path[i - 1]?.children.delete(levels[i - 1] as string);
    }
  }

  /**
   * The subscribers with at least one filter matching `topic`, each once, with the highest QoS
   * granted over its matching filters. `a/#` matches `a/` and `a/b` but not `a` (AWS IoT Core).
   */
  match(topic: string): Map<S, 0 | 1> {
    const levels = topic.split('/');
    const out = new Map<S, 0 | 1>();
    const take = (subscribers: Map<S, 0 | 1>) => {
      for (const [subscriber, qos] of subscribers) {
        const had = out.get(subscriber);
        if (had === undefined || qos > had) out.set(subscriber, qos);
      }
    };
    // MQTT 4.7.2: topics starting with `$` are not matched by a filter whose first level is a wildcard.
    const reserved = topic.startsWith('$');
    const walk = (at: TrieNode<S>, depth: number): void => {
      if (depth === levels.length) {
        take(at.subscribers);
        return;
      }
      if (depth > 0 || !reserved) {
        const rest = at.children.get('#');
        if (rest) take(rest.subscribers);
        const one = at.children.get('+');
        if (one) walk(one, depth + 1);
      }
      const level = levels[depth] as string;
      // A topic level spelled `+` or `#` is reached through the wildcard branches above.
      if (level === '+' || level === '#') return;
      const exact = at.children.get(level);
      if (exact) walk(exact, depth + 1);
    };
    walk(this.root, 0);
    return out;
  }
}
