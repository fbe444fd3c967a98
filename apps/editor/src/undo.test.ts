import { describe, expect, it } from 'vitest';
import { IdAliases, UndoStack } from './undo.ts';

describe('UndoStack', () => {
  it('undoes and redoes in order, and a new action clears redo', async () => {
    const log: string[] = [];
    const stack = new UndoStack();
    const command = (name: string) => ({
      label: name,
      undo: async () => void log.push(`undo ${name}`),
      redo: async () => void log.push(`redo ${name}`),
    });
    stack.push(command('a'));
    stack.push(command('b'));
    await stack.undo();
    await stack.undo();
    await stack.redo();
    expect(log).toEqual(['undo b', 'undo a', 'redo a']);
    expect(stack.state()).toBe('11');
    stack.push(command('c'));
    expect(stack.canRedo).toBe(false);
  });

  it('keeps a command that failed to undo on the stack', async () => {
    const stack = new UndoStack();
    stack.push({
      label: 'x',
      undo: () => Promise.reject(new Error('409')),
      redo: async () => undefined,
    });
    await expect(stack.undo()).rejects.toThrow('409');
    expect(stack.canRedo).toBe(false);
  });

  it('runs actions one after another, even when one fails', async () => {
    const stack = new UndoStack();
    const order: number[] = [];
    const slow = stack.serial(async () => {
      await new Promise((done) => setTimeout(done, 20));
      order.push(1);
      throw new Error('refused');
    });
    const fast = stack.serial(async () => void order.push(2));
    await expect(slow).rejects.toThrow('refused');
    await fast;
    expect(order).toEqual([1, 2]);
  });
});

describe('IdAliases', () => {
  it('follows re-created ids to the current one', () => {
    const aliases = new IdAliases();
    aliases.alias('a', 'b');
    aliases.alias('b', 'c');
    expect(aliases.resolve('a')).toBe('c');
    expect(aliases.resolve('z')).toBe('z');
  });
});
