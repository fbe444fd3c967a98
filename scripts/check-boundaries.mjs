#!/usr/bin/env node
// Checks the package rules of DESIGN.md §1: who may import whom, only through public entry points,
// and package.json dependencies + tsconfig references agreeing with the imports. Exit 1 on any breach.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const packages = {
  '@sluice/api': { dir: 'packages/api', allowed: [] },
  '@sluice/expression': { dir: 'packages/expression', allowed: [] },
  '@sluice/protocol': { dir: 'packages/protocol', allowed: [] },
  '@sluice/engine': { dir: 'packages/engine', allowed: ['@sluice/api', '@sluice/expression'] },
  '@sluice/site-to-site': { dir: 'packages/site-to-site', allowed: ['@sluice/api'] },
  '@sluice/testing': { dir: 'packages/testing', allowed: ['@sluice/api', '@sluice/engine'] },
  '@sluice/processors': { dir: 'processors', allowed: ['@sluice/api'], typeOnly: ['@sluice/expression'] },
  '@sluice/server': { dir: 'apps/server', allowed: '*' },
  '@sluice/editor': { dir: 'apps/editor', allowed: ['@sluice/protocol', '@sluice/expression'] },
};
// Tests may also use the TestRunner (processor tests go through @sluice/testing).
const testOnly = ['@sluice/testing'];

const problems = [];
const files = (dir) => {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
};
const importPattern =
  /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

for (const [name, spec] of Object.entries(packages)) {
  const dir = join(root, spec.dir);
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    continue; // not created yet
  }
  if (manifest.name !== name) problems.push(`${spec.dir}/package.json is named ${manifest.name}, expected ${name}`);
  const declared = new Set(
    Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((d) => d.startsWith('@sluice/')),
  );
  const used = new Set();
  for (const file of files(join(dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const isTest = /\.test(-helper)?\.tsx?$/.test(file) || file.includes(`${sep}e2e${sep}`);
    for (const m of text.matchAll(importPattern)) {
      const typeOnly = m[2] !== undefined;
      const target = m[3] ?? m[4] ?? m[5];
      const where = relative(root, file);
      if (target.startsWith('.')) {
        const resolved = resolve(dirname(file), target);
        if (!resolved.startsWith(dir + sep))
          problems.push(`${where}: relative import "${target}" leaves ${spec.dir}; import the package instead`);
        continue;
      }
      if (!target.startsWith('@sluice/')) continue;
      const pkg = target.split('/').slice(0, 2).join('/');
      if (target !== pkg) problems.push(`${where}: deep import "${target}"; import "${pkg}" (its public entry) instead`);
      if (pkg === name) {
        // Tests exercise their package through its public entry; source files use relative imports.
        if (!isTest) problems.push(`${where}: imports its own package "${pkg}"; use a relative import`);
        continue;
      }
      const ok =
        spec.allowed === '*' ||
        spec.allowed.includes(pkg) ||
        (typeOnly && (spec.typeOnly ?? []).includes(pkg)) ||
        (isTest && testOnly.includes(pkg));
      if (!ok)
        problems.push(
          `${where}: ${name} may not import ${pkg}${(spec.typeOnly ?? []).includes(pkg) ? ' except with "import type"' : ''}`,
        );
      if (!isTest) used.add(pkg);
      if (!declared.has(pkg)) problems.push(`${spec.dir}/package.json does not declare ${pkg}, which ${where} imports`);
    }
  }
  let references = [];
  try {
    const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'));
    references = (tsconfig.references ?? []).map((r) => resolve(dir, r.path));
  } catch {
    // no tsconfig: nothing to compare
  }
  for (const pkg of used) {
    const target = packages[pkg];
    if (target !== undefined && !references.includes(join(root, target.dir))) {
      problems.push(`${spec.dir}/tsconfig.json does not reference ${target.dir}, whose package ${pkg} it imports`);
    }
  }
  for (const dep of declared) {
    if (spec.allowed !== '*' && !spec.allowed.includes(dep) && !(spec.typeOnly ?? []).includes(dep) && !testOnly.includes(dep)) {
      problems.push(`${spec.dir}/package.json depends on ${dep}, which ${name} may not use`);
    }
  }
}

if (problems.length > 0) {
  console.error(`package boundary check failed (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('package boundaries: ok');
