import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** A destination refused by the private-address guard (SSRF protection). */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = 'ESLUICEREFUSED';
}

/** Address ranges that reach this host, its networks or cloud metadata services, with their kind. */
const RANGES: ReadonlyArray<readonly [kind: string, blocks: BlockList]> = [
  [
    'loopback',
    blocks([
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ]),
  ],
  [
    'link-local (cloud metadata services live here)',
    blocks([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  ],
  [
    'private',
    blocks([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
      ['198.18.0.0', 15, 'ipv4'], // benchmarking networks
      ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
      ['fc00::', 7, 'ipv6'], // unique local (includes AWS's fd00:ec2::254 metadata address)
    ]),
  ],
  [
    'unspecified, multicast or reserved',
    blocks([
      ['0.0.0.0', 8, 'ipv4'],
      ['224.0.0.0', 4, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['::', 128, 'ipv6'],
      ['ff00::', 8, 'ipv6'],
    ]),
  ],
];

function blocks(list: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>): BlockList {
  const out = new BlockList();
  for (const [network, prefix, family] of list) out.addSubnet(network, prefix, family);
  return out;
}

/**
 * The kind of a non-public address ("loopback", "private", ...), or undefined for a public one.
 * IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are judged by the IPv4 address they carry.
 */
export function restrictedKind(address: string): string | undefined {
  let ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined) ip = mapped[1];
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, list] of RANGES) if (list.check(ip, type)) return kind;
  return undefined;
}

/**
 * Refuses a URL host that is itself a non-public IP literal (Node connects to literals without a
 * lookup, so {@link guardedLookup} never sees them).
 * @throws {AddressRefusedError} naming the address and its kind.
 */
export function checkLiteralHost(hostname: string): void {
  const ip = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(ip) === 0) return;
  const kind = restrictedKind(ip);
  if (kind !== undefined) throw refused(hostname, ip, kind);
}

function refused(hostname: string, ip: string, kind: string): AddressRefusedError {
  const target = hostname === ip ? ip : `${hostname} (${ip})`;
  return new AddressRefusedError(
    `refused to connect to ${target}: it is a ${kind} address and "Allow Private Addresses" is false`,
  );
}

/**
 * A `lookup` for http.request / net.connect that resolves the name, refuses it when any address is
 * not public, and hands the checked addresses to the connection. The socket connects to exactly the
 * addresses checked here, so a DNS answer that changes between check and connect (DNS rebinding)
 * cannot slip a private address through.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error !== null) {
      callback(error, '', 0);
      return;
    }
    for (const entry of addresses) {
      const kind = restrictedKind(entry.address);
      if (kind !== undefined) {
        callback(refused(hostname, entry.address, kind), '', 0);
        return;
      }
    }
    const first = addresses[0];
    if (first === undefined) {
      callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all === true) callback(null, addresses);
    else callback(null, first.address, first.family);
  });
};
