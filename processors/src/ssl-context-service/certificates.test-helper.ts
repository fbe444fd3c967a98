// Makes a throwaway CA, a server certificate (localhost, 127.0.0.1) and a client certificate with
// the openssl command line (node:crypto cannot issue certificates). Tests skip when openssl is absent.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether the openssl command is available. */
export const hasOpenssl: boolean = (() => {
  try {
    return spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
  } catch {
    return false;
  }
})();

/** Paths and PEM texts of generated certificates. */
export interface TestCertificates {
  readonly dir: string;
  readonly caCert: string;
  readonly caPem: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** The server key encrypted with the password "secret". */
  readonly serverKeyEncrypted: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** A certificate of a different CA, with its key (for "untrusted" cases). */
  readonly otherCert: string;
  readonly otherKey: string;
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
}

/** Generates the certificates in a temp directory (EC P-256 keys, valid for two days). */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Sluice Test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subject] of [
    ['server', '/CN=localhost'],
    ['client', '/CN=sluice-client'],
  ] as const) {
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  openssl(dir, 'pkcs8', '-topk8', '-in', 'server.key', '-out', 'server-encrypted.key', '-passout', 'pass:secret');
  openssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other.key',
    '-out',
    'other.crt',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  const path = (name: string) => join(dir, name);
  return {
    dir,
    caCert: path('ca.crt'),
    caPem: readFileSync(path('ca.crt'), 'utf8'),
    serverCert: path('server.crt'),
    serverKey: path('server.key'),
    serverKeyEncrypted: path('server-encrypted.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
    clientCertPem: readFileSync(path('client.crt'), 'utf8'),
    clientKeyPem: readFileSync(path('client.key'), 'utf8'),
    otherCert: path('other.crt'),
    otherKey: path('other.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
