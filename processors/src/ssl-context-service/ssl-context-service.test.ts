import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { TestRunner } from '@sluice/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvokeHTTP } from '../invoke-http/index.ts';
import { ListenHTTP } from '../listen-http/index.ts';
import { ListenSyslog } from '../listen-syslog/index.ts';
import { send, startListener, until } from '../network-support/network.test-helper.ts';
import { hasOpenssl, makeCertificates, type TestCertificates } from './certificates.test-helper.ts';
import { StandardSSLContextService } from './index.ts';

describe.skipIf(!hasOpenssl)(
  `StandardSSLContextService${hasOpenssl ? '' : ' (skipped: the openssl command, needed to make test certificates, is not installed)'}`,
  () => {
    let certs: TestCertificates;
    let runner: TestRunner | undefined;
    beforeAll(() => {
      certs = makeCertificates();
      mkdirSync(join(certs.dir, 'elsewhere'));
    });
    afterAll(() => certs.remove());
    afterEach(async () => {
      await runner?.close();
      runner = undefined;
    });

    const server = (): Record<string, string> => ({ certificateFile: certs.serverCert, keyFile: certs.serverKey });

    /** A ListenHTTP over HTTPS with the SSL service; returns its URL. */
    const https = async (ssl: Record<string, string>, properties: Record<string, string> = {}): Promise<string> => {
      runner = await TestRunner.create(ListenHTTP, {
        properties: { port: '0', sslContextService: 'ssl', ...properties },
        services: { ssl: { type: StandardSSLContextService, properties: ssl } },
      });
      return `https://127.0.0.1:${await startListener(runner)}/contentListener`;
    };

    it('serves ListenHTTP over HTTPS to clients that trust the CA, and refuses the others', async () => {
      const url = await https(server());
      expect(url.startsWith('https://')).toBe(true);
      const res = await send(url, { body: 'over tls', ca: certs.caPem });
      expect(res.status).toBe(200);
      await until(() => runner?.transferred('success').length === 1, 'the FlowFile');
      expect(runner?.transferred('success')[0]?.attribute('http.request.url')).toBe(url);
      await expect(send(url, { body: 'untrusted' })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    });

    it('opens an encrypted key with its password', async () => {
      const url = await https({ certificateFile: certs.serverCert, keyFile: certs.serverKeyEncrypted, keyPassword: 'secret' });
      expect((await send(url, { body: 'x', ca: certs.caPem })).status).toBe(200);
    });

    it('requires client certificates signed by the trusted CA when Client Authentication is required', async () => {
      const url = await https({ ...server(), caFile: certs.caCert, clientAuthentication: 'required' });
      await expect(send(url, { body: 'anonymous', ca: certs.caPem })).rejects.toThrow();
      const res = await send(url, { body: 'mutual', ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem });
      expect(res.status).toBe(200);
    });

    it.each([
      [{ keyFile: 'KEY' }, 'the key password is wrong'],
      [{ keyFile: 'OTHER_KEY' }, 'does not belong to the certificate'],
      [{ keyFile: 'MISSING' }, 'cannot read the key file'],
      [{ keyFile: '/etc/ssl/private/key.pem' }, 'is outside the directories'],
      [{ keyFile: 'CA_CERT' }, 'cannot be used'],
    ])('refuses to enable with a clear reason (%o)', async (override, reason) => {
      const keyFile =
        {
          KEY: certs.serverKeyEncrypted,
          OTHER_KEY: certs.otherKey,
          CA_CERT: certs.caCert,
          MISSING: join(certs.dir, 'missing.pem'),
        }[override.keyFile] ?? override.keyFile;
      runner = await TestRunner.create(ListenHTTP, {
        properties: { port: '0', sslContextService: 'ssl' },
        services: { ssl: { type: StandardSSLContextService, properties: { certificateFile: certs.serverCert, keyFile } } },
      });
      const failure = runner.logsAt('ERROR').find((l) => l.message.includes('failed to enable'));
      expect(String(failure?.error)).toContain(reason);
      // The processor cannot start without it, and says why.
      await runner.engine.startComponent('under-test');
      await until(() => runner?.logsAt('ERROR').some((l) => l.message.includes('failed to start')) === true, 'the start failure');
      const start = runner.logsAt('ERROR').find((l) => l.message.includes('failed to start'));
      expect(String(start?.error)).toContain('is not enabled');
    });

    it('validates that its files make sense together', async () => {
      runner = await TestRunner.create(ListenHTTP, {
        properties: { port: '0' },
        services: { ssl: { type: StandardSSLContextService, properties: server() } },
      });
      const r = runner;
      const problems = async (properties: Record<string, string>): Promise<string> => {
        const flow = structuredClone(r.engine.flow);
        for (const service of flow.rootGroup.controllerServices ?? []) service.properties = properties;
        try {
          await r.engine.applyFlow(flow);
          return '';
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      };
      expect(await problems({ certificateFile: certs.serverCert })).toContain('set both Certificate File and Key File');
      expect(await problems({})).toContain('set Certificate File and Key File (to serve TLS), Trusted CA File');
      expect(await problems({ ...server(), clientAuthentication: 'required' })).toContain('needs a Trusted CA File');
      expect(await problems({ ...server(), caFile: certs.caCert, clientAuthentication: 'required' })).toBe('');
    });

    it('reads files only under the allowed directories', async () => {
      runner = await TestRunner.create(ListenHTTP, {
        properties: { port: '0', sslContextService: 'ssl' },
        services: { ssl: { type: StandardSSLContextService, properties: server() } },
        fileRoots: [join(certs.dir, 'elsewhere')],
      });
      const failure = runner.logsAt('ERROR').find((l) => l.message.includes('failed to enable'));
      expect(String(failure?.error)).toMatch(/outside|not under|allowed/i);
    });

    describe('InvokeHTTP over HTTPS', () => {
      let target: Server;
      let base = '';
      beforeAll(async () => {
        const { readFileSync } = await import('node:fs');
        target = createServer(
          {
            cert: readFileSync(certs.serverCert),
            key: readFileSync(certs.serverKey),
            ca: certs.caPem,
            requestCert: true,
            rejectUnauthorized: false,
          },
          (req, res) => {
            const peer = req.socket instanceof TLSSocket ? req.socket.getPeerCertificate() : undefined;
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.end(`client=${peer?.subject?.CN ?? 'none'}`);
          },
        );
        await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
        const address = target.address();
        base = `https://localhost:${typeof address === 'object' && address !== null ? address.port : 0}`;
      });
      afterAll(async () => {
        target.closeAllConnections();
        await new Promise((r) => target.close(r));
      });

      it('verifies the server against the trusted CA and presents a client certificate', async () => {
        runner = await TestRunner.create(InvokeHTTP, {
          properties: { httpUrl: `${base}/`, sslContextService: 'ssl' },
          services: {
            ssl: {
              type: StandardSSLContextService,
              properties: { caFile: certs.caCert, certificateFile: certs.clientCert, keyFile: certs.clientKey },
            },
          },
        });
        await runner.enqueue('x');
        await runner.run();
        expect(runner.transferred('response')[0]?.text()).toBe('client=sluice-client');
      });

      it('fails with a TLS reason when the server is not trusted', async () => {
        runner = await TestRunner.create(InvokeHTTP, { properties: { httpUrl: `${base}/` } });
        await runner.enqueue('x');
        await runner.run();
        expect(runner.transferred('failure')[0]?.attribute('invokehttp.failure.reason')).toMatch(
          /TLS connection to localhost:\d+ failed/,
        );
      });
    });

    it('receives syslog over TLS', async () => {
      runner = await TestRunner.create(ListenSyslog, {
        properties: { port: '0', protocol: 'TCP', sslContextService: 'ssl' },
        services: { ssl: { type: StandardSSLContextService, properties: server() } },
      });
      const port = await startListener(runner);
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: certs.caPem, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      socket.end('<34>Oct 11 22:14:15 mymachine su: over tls\n');
      await until(() => runner?.transferred('success').length === 1, 'the message');
      expect(runner.transferred('success')[0]?.attribute('syslog.body')).toBe('over tls');
    });
  },
);
