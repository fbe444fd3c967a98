import type { ParamRef, TextPart } from './lexer.ts';

export type { ParamRef } from './lexer.ts';

/** A function call `name(args)`; `start` is the offset of the name. */
export interface CallNode {
  readonly kind: 'call';
  readonly name: string;
  readonly start: number;
  /** Offset just past `)`. */
  readonly end: number;
  readonly args: readonly ArgNode[];
}

/** Quoted text; parts are literal text, parameter references and embedded expressions. */
export interface StringNode {
  readonly kind: 'string';
  readonly parts: readonly TextPart[];
  readonly start: number;
  readonly end: number;
}

/** A number literal: whole (`bigint`) or decimal. */
export interface NumberNode {
  readonly kind: 'number';
  readonly value: bigint | number;
  readonly start: number;
  readonly end: number;
}

/** `true` / `false` as an argument. */
export interface BooleanNode {
  readonly kind: 'boolean';
  readonly value: boolean;
  readonly start: number;
  readonly end: number;
}

/** What an expression starts with. */
export type SubjectNode =
  /** An attribute; its name may be quoted text containing parameter references. */
  | { readonly kind: 'attribute'; readonly name: StringNode; readonly start: number; readonly end: number }
  /** `${#{p}}`: the attribute named by the parameter's value (NiFi substitutes parameters textually). */
  | { readonly kind: 'paramAttribute'; readonly param: ParamRef; readonly start: number; readonly end: number }
  /** A subjectless or multi-attribute function such as `now()` or `anyAttribute('a','b')`. */
  | CallNode;

/** `${ subject : call : call ... }`; `start` is the offset of `${`, `end` just past `}`. */
export interface ExprNode {
  readonly kind: 'expr';
  readonly subject: SubjectNode;
  readonly calls: readonly CallNode[];
  readonly start: number;
  readonly end: number;
}

/** A function argument. */
export type ArgNode = StringNode | NumberNode | BooleanNode | ExprNode | ParamRef;

/** A piece of a template: literal text (already unescaped), an expression, or a parameter reference. */
export type Segment = { readonly kind: 'text'; readonly text: string } | ExprNode | ParamRef;
