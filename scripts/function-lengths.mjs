#!/usr/bin/env node
// Prints every function in packages/*/src and apps/*/src longer than the limit (default 200 lines),
// counted on the TypeScript AST as end line - start line + 1, nested closures included.
// Exits 1 if any. Usage: node scripts/function-lengths.mjs [--limit N] [--all]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : 200;
const showAll = args.includes('--all');

function sourceFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|cts)$/.test(entry) && !entry.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

function functionName(node) {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (
    parent &&
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
  ) {
    return parent.name.getText();
  }
  return '<anonymous>';
}

const found = [];
for (const group of ['packages', 'apps']) {
  const groupDir = join(root, group);
  for (const pkg of readdirSync(groupDir)) {
    const srcDir = join(groupDir, pkg, 'src');
    try {
      if (!statSync(srcDir).isDirectory()) continue;
    } catch {
      continue;
    }
    for (const file of sourceFiles(srcDir)) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node) => {
        if (
          ts.isFunctionDeclaration(node) ||
          ts.isFunctionExpression(node) ||
          ts.isArrowFunction(node) ||
          ts.isMethodDeclaration(node)
        ) {
          const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
          const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
          const lines = end - start + 1;
          if (showAll || lines > limit) {
            found.push({ where: `${relative(root, file)}:${start + 1}`, name: functionName(node), lines });
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
}

found.sort((a, b) => b.lines - a.lines);
for (const f of found) console.log(`${String(f.lines).padStart(5)}  ${f.name}  ${f.where}`);
if (!showAll) {
  console.log(
    found.length === 0
      ? `no function over ${limit} lines`
      : `${found.length} function(s) over ${limit} lines`,
  );
  process.exitCode = found.length > 0 ? 1 : 0;
}
