import { describe, expect, it } from 'vitest';
import { parameterListProblem } from './ParametersDialog.tsx';
import { remoteSettingsProblem } from './RemoteGroupDialog.tsx';

const port = {
  key: 1,
  name: 'from-edge',
  useCompression: false,
  batchCount: 0,
  batchSize: '0 B',
  batchDuration: '0 sec',
  concurrentTasks: 1,
};
const settings = { targetUris: 'http://core:8080/nifi', communicationsTimeout: '30 sec', yieldDuration: '10 sec', ports: [port] };

describe('parameter list', () => {
  it('wants valid, distinct names', () => {
    expect(parameterListProblem([{ name: 'out dir' }, { name: 'token' }])).toBeUndefined();
    expect(parameterListProblem([{ name: 'a/b' }])).toEqual({ key: 'parameters.badName', name: 'a/b' });
    expect(parameterListProblem([{ name: 'x' }, { name: 'x' }])).toEqual({ key: 'parameters.duplicate', name: 'x' });
    expect(parameterListProblem([{ name: '' }])?.key).toBe('parameters.badName');
  });
});

describe('remote process group settings', () => {
  it('wants a URL, durations and sane port settings', () => {
    expect(remoteSettingsProblem(settings)).toBeUndefined();
    expect(remoteSettingsProblem({ ...settings, targetUris: ' ' })).toBe('remote.errors.urls');
    expect(remoteSettingsProblem({ ...settings, yieldDuration: 'soon' })).toBe('remote.errors.duration');
    expect(remoteSettingsProblem({ ...settings, ports: [{ ...port, name: '' }] })).toBe('remote.errors.portName');
    expect(remoteSettingsProblem({ ...settings, ports: [{ ...port, batchCount: -1 }] })).toBe('remote.errors.batchCount');
    expect(remoteSettingsProblem({ ...settings, ports: [{ ...port, batchSize: 'big' }] })).toBe('remote.errors.batchSize');
    expect(remoteSettingsProblem({ ...settings, ports: [{ ...port, concurrentTasks: 65 }] })).toBe(
      'remote.errors.concurrentTasks',
    );
  });
});
