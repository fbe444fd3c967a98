/** A syslog message taken apart (RFC 5424, or the BSD format of RFC 3164). */
export interface SyslogMessage {
  readonly priority: number;
  readonly facility: number;
  readonly severity: number;
  /** "1" for RFC 5424; undefined for RFC 3164. */
  readonly version: string | undefined;
  /** As sent (RFC 3339 for 5424, "Mmm dd hh:mm:ss" for 3164); undefined for the 5424 nil value "-". */
  readonly timestamp: string | undefined;
  readonly hostname: string | undefined;
  readonly appname: string | undefined;
  readonly procid: string | undefined;
  readonly msgid: string | undefined;
  /** RFC 5424 structured data: `<SD-ID>.<PARAM-NAME>` → value. */
  readonly structuredData: ReadonlyMap<string, string>;
  readonly body: string;
}

/** A parse: the message, or why it is not a syslog message. */
export type SyslogParse =
  | { readonly valid: true; readonly message: SyslogMessage }
  | { readonly valid: false; readonly reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PRI = /^<(\d{1,3})>/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$/;
const BSD_TIMESTAMP = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ( \d|\d\d) \d\d:\d\d:\d\d/;
const BSD_HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9.@_:-]*$/;
const BSD_TAG = /^([^\s:[\]]{1,48})(?:\[([^\]\s]{1,128})\])?:\s?/;

/**
 * Parses one syslog message (without framing; a trailing newline or NUL is ignored). Both RFC 5424
 * (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) and RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`,
 * also with an RFC 3339 timestamp or no host) are understood.
 */
export function parseSyslog(data: Uint8Array): SyslogParse {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { valid: false, reason: 'the message is not valid UTF-8' };
  }
  text = text.replace(/[\r\n\0]+$/, '');
  const pri = PRI.exec(text);
  if (pri?.[1] === undefined) return { valid: false, reason: 'the message does not start with a priority like <34>' };
  const priority = Number(pri[1]);
  if (priority > 191 || (pri[1].length > 1 && pri[1].startsWith('0'))) {
    return { valid: false, reason: `<${pri[1]}> is not a priority (0 to 191, without leading zeros)` };
  }
  const rest = text.slice(pri[0].length);
  const head = { priority, facility: priority >> 3, severity: priority & 7 };
  return /^[1-9]\d{0,2} /.test(rest) ? parse5424(head, rest) : parse3164(head, rest);
}

type Head = Pick<SyslogMessage, 'priority' | 'facility' | 'severity'>;

function parse5424(head: Head, text: string): SyslogParse {
  const fields: string[] = [];
  let position = 0;
  // VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, each followed by one space.
  for (let i = 0; i < 6; i++) {
    const space = text.indexOf(' ', position);
    if (space < 0) return { valid: false, reason: `RFC 5424 header ends early: ${FIELD_NAMES[i]} or what follows is missing` };
    fields.push(text.slice(position, space));
    position = space + 1;
  }
  const [version, timestamp, hostname, appname, procid, msgid] = fields;
  if (timestamp !== '-' && !RFC3339.test(timestamp ?? '')) {
    return { valid: false, reason: `"${timestamp}" is not an RFC 3339 timestamp (like 2003-10-11T22:14:15.003Z) or "-"` };
  }
  for (const [value, name, max] of [
    [hostname, 'HOSTNAME', 255],
    [appname, 'APP-NAME', 48],
    [procid, 'PROCID', 128],
    [msgid, 'MSGID', 32],
  ] as const) {
    if (value === undefined || value.length === 0 || value.length > max || /[^\x21-\x7e]/.test(value)) {
      return { valid: false, reason: `${name} "${value ?? ''}" must be 1 to ${max} printable ASCII characters` };
    }
  }
  const sd = parseStructuredData(text, position);
  if (typeof sd === 'string') return { valid: false, reason: sd };
  let body = text.slice(sd.end);
  if (body.startsWith(' ')) body = body.slice(1);
  else if (body !== '') return { valid: false, reason: 'a space must follow the structured data' };
  if (body.startsWith('\ufeff')) body = body.slice(1);
  const nil = (v: string | undefined): string | undefined => (v === '-' ? undefined : v);
  return {
    valid: true,
    message: {
      ...head,
      version,
      timestamp: nil(timestamp),
      hostname: nil(hostname),
      appname: nil(appname),
      procid: nil(procid),
      msgid: nil(msgid),
      structuredData: sd.data,
      body,
    },
  };
}

const FIELD_NAMES = ['VERSION', 'TIMESTAMP', 'HOSTNAME', 'APP-NAME', 'PROCID', 'MSGID'];

/** Parses `-` or `[id k="v" ...][...]` at `start`; returns the parameters and where they end, or a reason. */
function parseStructuredData(text: string, start: number): { data: Map<string, string>; end: number } | string {
  const data = new Map<string, string>();
  if (text[start] === '-') return { data, end: start + 1 };
  if (text[start] !== '[') return 'the structured data must be "-" or start with "["';
  let i = start;
  while (text[i] === '[') {
    i++;
    const idEnd = scanName(text, i);
    if (idEnd === i) return 'a structured data element has no SD-ID';
    const id = text.slice(i, idEnd);
    i = idEnd;
    while (text[i] === ' ') {
      i++;
      const nameEnd = scanName(text, i);
      if (nameEnd === i || text[nameEnd] !== '=' || text[nameEnd + 1] !== '"') {
        return `structured data element [${id}] has a malformed parameter (write name="value")`;
      }
      const name = text.slice(i, nameEnd);
      i = nameEnd + 2;
      let value = '';
      for (;;) {
        const c = text[i];
        if (c === undefined) return `structured data element [${id}] is not closed`;
        if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === ']')) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') break;
        value += c;
        i++;
      }
      i++;
      data.set(`${id}.${name}`, value);
    }
    if (text[i] !== ']') return `structured data element [${id}] is not closed with "]"`;
    i++;
  }
  return { data, end: i };
}

/** SD-NAME: printable ASCII except = SP ] " (RFC 5424 §6.3.2), at most 32 characters. */
function scanName(text: string, start: number): number {
  let i = start;
  while (i < text.length && i - start < 32) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || code === 0x3d || code === 0x5d || code === 0x22) break;
    i++;
  }
  return i;
}

function parse3164(head: Head, text: string): SyslogParse {
  let timestamp: string;
  let rest: string;
  const bsd = BSD_TIMESTAMP.exec(text);
  if (bsd !== null) {
    timestamp = bsd[0];
    rest = text.slice(bsd[0].length);
  } else {
    // Some senders (rsyslog's RFC3339 templates) put an RFC 3339 timestamp in the BSD format.
    const space = text.indexOf(' ');
    const candidate = space < 0 ? text : text.slice(0, space);
    if (!RFC3339.test(candidate)) {
      return {
        valid: false,
        reason:
          'no timestamp after the priority: expected RFC 5424 ("1 2003-10-11T22:14:15Z ...") or RFC 3164 ("Oct 11 22:14:15 ...")',
      };
    }
    timestamp = candidate;
    rest = space < 0 ? '' : text.slice(space);
  }
  if (rest !== '' && !rest.startsWith(' ')) return { valid: false, reason: 'a space must follow the timestamp' };
  rest = rest.slice(1);
  let hostname: string | undefined;
  const space = rest.indexOf(' ');
  const firstWord = space < 0 ? rest : rest.slice(0, space);
  // The host is optional in practice; a word ending in ":" or "]:" is the tag, not a host.
  if (firstWord !== '' && BSD_HOSTNAME.test(firstWord) && !firstWord.endsWith(':')) {
    hostname = firstWord;
    rest = space < 0 ? '' : rest.slice(space + 1);
  }
  let appname: string | undefined;
  let procid: string | undefined;
  const tag = BSD_TAG.exec(rest);
  if (tag?.[1] !== undefined) {
    appname = tag[1];
    procid = tag[2];
    rest = rest.slice(tag[0].length);
  }
  return {
    valid: true,
    message: {
      ...head,
      version: undefined,
      timestamp,
      hostname,
      appname,
      procid,
      msgid: undefined,
      structuredData: new Map(),
      body: rest,
    },
  };
}
