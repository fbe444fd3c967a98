/** @sluice/expression: NiFi-compatible Expression Language, parsed and evaluated without eval. */
export {};
