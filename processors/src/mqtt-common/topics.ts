/**
 * MQTT topic names and topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7 and §4.8): validation with
 * messages that say what to write instead, and matching a topic against a filter the way a broker does.
 */

const SHARED = /^\$share\/([^/]*)\/(.*)$/s;
const MAX_BYTES = 65_535;

/**
 * Checks a topic filter (wildcards `+` and `#` allowed, `$share/<group>/<filter>` allowed).
 * Returns what is wrong, or undefined when it is a valid filter.
 */
export function validateTopicFilter(filter: string): string | undefined {
  if (filter === '') return 'a topic filter cannot be empty';
  if (filter.includes('\u0000')) return `topic filter "${filter}" contains a NUL character`;
  if (Buffer.byteLength(filter) > MAX_BYTES) return `topic filter is longer than ${MAX_BYTES} bytes`;
  let target = filter;
  if (filter.startsWith('$share/')) {
    const rest = filter.slice('$share/'.length);
    const slash = rest.indexOf('/');
    const group = slash < 0 ? rest : rest.slice(0, slash);
    target = slash < 0 ? '' : rest.slice(slash + 1);
    if (group === '' || /[+#]/.test(group)) {
      return `shared subscription "${filter}" needs a group name without + or #, like "$share/group/sensors/#"`;
    }
    if (target === '')
      return `shared subscription "${filter}" needs a topic filter after the group, like "$share/group/sensors/#"`;
  }
  const levels = target.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return `in "${filter}", # must be a whole level at the end, like "sensors/#"`;
    }
    if (level.includes('+') && level !== '+') {
      return `in "${filter}", + must be a whole level, like "sensors/+/temperature"`;
    }
  }
  return undefined;
}

/** Checks a topic name to publish to (no wildcards). Returns what is wrong, or undefined. */
export function validateTopicName(topic: string): string | undefined {
  if (topic === '') return 'the topic is empty';
  if (topic.includes('\u0000')) return `topic "${topic}" contains a NUL character`;
  if (topic.includes('+') || topic.includes('#')) {
    return `topic "${topic}" contains a wildcard (+ or #); wildcards are only for subscribing`;
  }
  if (Buffer.byteLength(topic) > MAX_BYTES) return `topic is longer than ${MAX_BYTES} bytes`;
  return undefined;
}

/** The filter a subscription matches topics with: `$share/<group>/` removed. */
export function filterTarget(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  return SHARED.exec(filter)?.[2] ?? filter;
}

/** A topic filter split into levels once, for matching many topics. */
export class TopicFilter {
  readonly filter: string;
  readonly #levels: readonly string[];

  constructor(filter: string) {
    this.filter = filter;
    this.#levels = filterTarget(filter).split('/');
  }

  /**
   * Whether a topic (already split into levels) matches, as a broker decides: `+` matches one level,
   * `#` the rest (including the parent level itself), and wildcards at the first level do not match
   * topics starting with `$` (like `$SYS/...`).
   */
  matches(topic: readonly string[]): boolean {
    const levels = this.#levels;
    const first = levels[0];
    if ((first === '+' || first === '#') && (topic[0] ?? '').startsWith('$')) return false;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      if (level === '#') return true;
      if (i >= topic.length) return false;
      if (level !== '+' && level !== topic[i]) return false;
    }
    return levels.length === topic.length;
  }
}

/** Whether `topic` matches `filter` (see {@link TopicFilter.matches}). */
export function topicMatches(filter: string, topic: string): boolean {
  return new TopicFilter(filter).matches(topic.split('/'));
}

/** Splits a comma-separated list of topic filters, dropping blanks around and between them. */
export function splitTopicFilters(text: string): string[] {
  return text
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

/**
 * The transit URI of a message on a topic, for provenance: the broker URI with the topic as its
 * path, each level percent-encoded (`mqtt://host:1883/sensors/room%201`).
 */
export function topicUri(broker: string, topic: string): string {
  return `${broker}/${topic.split('/').map(encodeURIComponent).join('/')}`;
}
