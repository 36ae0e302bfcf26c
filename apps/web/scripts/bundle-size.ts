/**
 * `pnpm test:bundle` — the web bundle's size budget (issue 15): what a first visit downloads before
 * the app can start (index.html's entry script, its modulepreloads and stylesheets, i.e. the
 * entry chunk and everything it imports statically) must stay under BUDGET_BYTES gzip. Chunks the
 * app imports lazily (the emoji picker, Markdown, …) and the emoji data are reported, not counted:
 * they load when first used. Run after `vite build`; exits 1 over the budget.
 *
 * Prints `bundle: initial_gzip_kb=<n> budget_kb=200 lazy_gzip_kb=<n> files=<n>` and one line per file.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** 200 kB (decimal kilobytes, as browsers' network panels count). */
export const BUDGET_BYTES = 200_000;

/** The asset paths index.html loads before the app runs: module scripts, modulepreloads, stylesheets. */
export function initialAssets(indexHtml: string): string[] {
  const paths = new Set<string>();
  for (const tag of indexHtml.match(/<(?:script|link)\b[^>]*>/g) ?? []) {
    const isScript = tag.startsWith("<script");
    const rel = /\brel="([^"]+)"/.exec(tag)?.[1];
    if (!isScript && rel !== "modulepreload" && rel !== "stylesheet") continue;
    const url = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1];
    // Only our own files: an absolute URL to another host is not part of the bundle.
    if (url && url.startsWith("/") && !url.startsWith("//")) paths.add(url.replace(/^\//, ""));
  }
  return [...paths];
}

export interface BundleReport {
  initial: { file: string; gzip: number }[];
  lazy: { file: string; gzip: number }[];
  initialGzip: number;
  lazyGzip: number;
}

const gzipSize = (path: string) => gzipSync(readFileSync(path), { level: 9 }).length;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Sizes the build in `dist`: the initial assets, and every other .js/.css/.json as lazy. */
export function measure(dist: string): BundleReport {
  const initialFiles = initialAssets(readFileSync(join(dist, "index.html"), "utf8"));
  const initial = initialFiles.map((file) => ({ file, gzip: gzipSize(join(dist, file)) }));
  const lazy = filesUnder(dist)
    .map((path) => relative(dist, path))
    .filter((file) => /\.(js|css|json)$/.test(file) && !initialFiles.includes(file))
    .map((file) => ({ file, gzip: gzipSize(join(dist, file)) }));
  const sum = (xs: { gzip: number }[]) => xs.reduce((n, x) => n + x.gzip, 0);
  return { initial, lazy, initialGzip: sum(initial), lazyGzip: sum(lazy) };
}

const kb = (bytes: number) => (bytes / 1000).toFixed(1);
// stdout, not console.log: the web package's lint keeps console.log out of shipped code.
const print = (line: string) => process.stdout.write(`${line}\n`);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dist = fileURLToPath(new URL("../dist", import.meta.url));
  const report = measure(dist);
  if (report.initial.length === 0) {
    console.error("bundle: index.html loads no assets; run `pnpm --filter @parley/web build` first");
    process.exit(1);
  }
  for (const f of report.initial) print(`  initial ${kb(f.gzip).padStart(7)} kB  ${f.file}`);
  for (const f of [...report.lazy].sort((a, b) => b.gzip - a.gzip)) print(`  lazy    ${kb(f.gzip).padStart(7)} kB  ${f.file}`);
  print(
    `bundle: initial_gzip_kb=${kb(report.initialGzip)} budget_kb=${kb(BUDGET_BYTES)} lazy_gzip_kb=${kb(report.lazyGzip)} files=${report.initial.length + report.lazy.length}`,
  );
  if (report.initialGzip > BUDGET_BYTES) {
    console.error(`bundle: over budget by ${kb(report.initialGzip - BUDGET_BYTES)} kB gzip: load the heavy part lazily (import()) or drop it`);
    process.exit(1);
  }
}
