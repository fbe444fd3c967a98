import { describe, expect, it } from 'vitest';
import { splitTopicFilters, topicMatches, topicUri, validateTopicFilter, validateTopicName } from './topics.ts';

describe('MQTT topics', () => {
  it.each([
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking/wimbledon', true],
    ['sport/#', 'sport', true],
    ['#', 'a/b/c', true],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['sport/+/player1', 'sport/tennis/player1', true],
    ['sport/+/player1', 'sport/tennis/x/player1', false],
    ['#', '$SYS/broker/uptime', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['$share/group/sensors/+', 'sensors/a', true],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
  ])('%s matches %s: %s (MQTT 3.1.1 §4.7 examples)', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it.each([
    ['sport/tennis#', '# must be a whole level at the end'],
    ['sport/#/ranking', '# must be a whole level at the end'],
    ['sport+', '+ must be a whole level'],
    ['', 'cannot be empty'],
    ['$share//a', 'needs a group name'],
    ['$share/g+/a', 'needs a group name'],
    ['$share/g', 'needs a topic filter after the group'],
    ['a\u0000b', 'NUL'],
  ])('refuses the filter %j', (filter, message) => {
    expect(validateTopicFilter(filter)).toContain(message);
  });

  it('accepts valid filters and names', () => {
    for (const f of ['#', '+', 'a/+/b/#', '$share/g/a/#', '/', 'a//b']) expect(validateTopicFilter(f)).toBeUndefined();
    expect(validateTopicName('a/b c/ü')).toBeUndefined();
    expect(validateTopicName('a/+')).toContain('wildcard');
    expect(validateTopicName('')).toContain('empty');
  });

  it('splits filter lists and builds transit URIs', () => {
    expect(splitTopicFilters(' a/#, b/+ ,,c ')).toEqual(['a/#', 'b/+', 'c']);
    expect(topicUri('mqtt://h:1883', 'plant 1/line#2/temp')).toBe('mqtt://h:1883/plant%201/line%232/temp');
  });
});
