import { readFile } from 'node:fs/promises';
import { type ConnectionOptions, createSecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { choice, defineService, string } from '@sluice/api';

/** The API string of SSL context services: `service(SSL_CONTEXT_API, ...)` properties accept them. */
export const SSL_CONTEXT_API = 'ssl-context';

/**
 * What an SSL context service gives the processors that use it: TLS options for Node's `tls`,
 * `https` and `net`-based servers and clients.
 */
export interface SslContext {
  /** Key, certificate chain, trusted CAs, passphrase and minimum protocol, as read and checked at enable. */
  readonly secureContextOptions: SecureContextOptions;
  /** Whether a key and certificate are configured (required to serve TLS or present a client certificate). */
  readonly hasIdentity: boolean;
  /**
   * Options for a TLS server (`https.createServer`, `tls.createServer`), including client
   * authentication as configured.
   * @throws {Error} when the service has no key and certificate.
   */
  serverOptions(): TlsOptions;
  /** Options for a TLS client (`https.request`, `tls.connect`): certificates always verified. */
  clientOptions(): ConnectionOptions;
}

/** Reads PEM key, certificate and CA files once and provides TLS options (NiFi's StandardSSLContextService). */
export const StandardSSLContextService = defineService({
  type: 'StandardSSLContextService',
  description:
    "TLS settings shared by listeners (ListenHTTP, HandleHttpRequest, ListenSyslog over TCP) and clients (InvokeHTTP): a PEM private key and certificate chain (this side's identity), PEM certificates of the CAs to trust, and the minimum protocol version. Files must lie under the directories the administrator allowed; they are read and checked (the key must match the certificate and open with the password) when the service is enabled; change a file and re-enable the service to pick it up.",
  tags: ['ssl', 'tls', 'certificate', 'security', 'https'],
  provides: [SSL_CONTEXT_API],
  restricted: 'reads key and certificate files on the Sluice host (under the allowed directories)',
  properties: {
    certificateFile: string({
      displayName: 'Certificate File',
      description:
        "PEM file with this side's certificate (and its intermediate CAs after it). Required with Key File; needed to serve TLS or present a client certificate.",
    }),
    keyFile: string({
      displayName: 'Key File',
      description: 'PEM file with the private key of the certificate (PKCS#8, PKCS#1 or SEC1; may be encrypted).',
    }),
    keyPassword: string({
      displayName: 'Key Password',
      description: 'Password of an encrypted private key.',
      sensitive: true,
    }),
    caFile: string({
      displayName: 'Trusted CA File',
      description:
        'PEM file with the certificates of the CAs to trust, replacing the system CAs. Clients verify servers against it; servers with client authentication verify clients against it. Without it, clients trust the system CAs.',
    }),
    minimumProtocol: choice(['TLSv1.2', 'TLSv1.3'], {
      displayName: 'Minimum TLS Protocol',
      description: 'The oldest TLS version accepted on either side.',
      default: 'TLSv1.2',
      required: true,
    }),
    clientAuthentication: choice(
      [
        { value: 'none', displayName: 'None', description: 'Servers do not ask clients for a certificate.' },
        {
          value: 'want',
          displayName: 'Want',
          description: 'Servers ask for a client certificate but accept clients without one (or with an untrusted one).',
        },
        {
          value: 'required',
          displayName: 'Required',
          description: 'Servers refuse clients without a certificate signed by a trusted CA (mutual TLS).',
        },
      ],
      {
        displayName: 'Client Authentication',
        description: 'Whether servers using this service require client certificates.',
        default: 'none',
        required: true,
      },
    ),
  },
  validate: (context) => problems((name) => context.getProperty(name).raw),
  async enable(context): Promise<SslContext> {
    const path = (name: 'certificateFile' | 'keyFile' | 'caFile'): string | undefined => {
      const value = context.getProperty(name).asString();
      return value === undefined || value === '' ? undefined : value;
    };
    const read = async (name: 'certificateFile' | 'keyFile' | 'caFile', label: string): Promise<string | undefined> => {
      const configured = path(name);
      if (configured === undefined) return undefined;
      // Only files under the roots the administrator allowed (after following symlinks).
      const file = context.resolvePath(configured);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new Error(`cannot read the ${label} ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!text.includes('-----BEGIN ')) throw new Error(`the ${label} ${file} is not PEM (no "-----BEGIN" line)`);
      return text;
    };
    const cert = await read('certificateFile', 'certificate file');
    const key = await read('keyFile', 'key file');
    const ca = await read('caFile', 'trusted CA file');
    const passphrase = context.getProperty('keyPassword').asString();
    const minVersion = context.getProperty('minimumProtocol').asString() === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2';
    const options: SecureContextOptions = {
      minVersion,
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(ca === undefined ? {} : { ca }),
      ...(passphrase === undefined || passphrase === '' ? {} : { passphrase }),
    };
    try {
      // Builds the context once so a wrong password, a key that does not match the certificate or
      // a broken PEM block fails here, with the service, and not at the first connection.
      createSecureContext(options);
    } catch (e) {
      throw new Error(`the key and certificates cannot be used: ${tlsProblem(e)}`);
    }
    const hasIdentity = cert !== undefined && key !== undefined;
    const clientAuth = context.getProperty('clientAuthentication').asString() ?? 'none';
    return {
      secureContextOptions: options,
      hasIdentity,
      serverOptions(): TlsOptions {
        if (!hasIdentity) {
          throw new Error(`SSL context service "${context.name}" has no Certificate File and Key File, which a TLS server needs`);
        }
        return { ...options, requestCert: clientAuth !== 'none', rejectUnauthorized: clientAuth === 'required' };
      },
      clientOptions(): ConnectionOptions {
        return { ...options, rejectUnauthorized: true };
      },
    };
  },
});

type Property = 'certificateFile' | 'keyFile' | 'caFile' | 'clientAuthentication';

/** The cross-property problems of a configuration, each saying what to set. */
function problems(raw: (name: Property) => string | undefined): string[] {
  const set = (name: Property): boolean => (raw(name) ?? '') !== '';
  const out: string[] = [];
  if (set('certificateFile') !== set('keyFile')) {
    out.push('set both Certificate File and Key File (a certificate is useless without its key, and the other way round)');
  }
  if (!set('certificateFile') && !set('caFile')) {
    out.push('set Certificate File and Key File (to serve TLS), Trusted CA File (to verify servers), or both');
  }
  if (raw('clientAuthentication') === 'required' && !set('caFile')) {
    out.push('Client Authentication "required" needs a Trusted CA File to verify client certificates against');
  }
  return out;
}

function tlsProblem(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/bad decrypt|bad password|BAD_DECRYPT/i.test(message)) return 'the key password is wrong (or the key needs one)';
  if (/KEY_VALUES_MISMATCH|key values mismatch/i.test(message)) return 'the private key does not belong to the certificate';
  return message;
}
