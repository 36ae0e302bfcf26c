/**
 * `pnpm test:bundle` — the web bundle's size budget (issue 15): what a first visit downloads before
 * the app can start (index.html's entry script, its modulepreloads and stylesheets, i.e. the
 * entry chunk and everything it imports statically) must stay under BUDGET_BYTES gzip. Chunks the
 * app imports lazily (the emoji picker, Markdown, …) and the emoji data are reported, not counted:
 * they load when first used. Run after `vite build`; exits 1 over the budget, or when a module that
 * must load lazily (LAZY_ONLY) is in the initial bundle.
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

/**
 * Modules that must stay out of the initial bundle: what only some readers, or only a click, need.
 * One static import would pull one back in while the budget still passes (for a while), so the
 * build's source maps are read for them. Matched against the maps' `sources` paths.
 */
export const LAZY_ONLY: readonly RegExp[] = [
  // Schemas are the server's business; the web reads system events without zod (shared's system-event.ts).
  /\/node_modules\/zod\//,
  // Dictionaries other than English: loaded for their readers only (i18n/index.ts).
  /\/src\/i18n\/zh-CN\.ts$/,
  // Opened on demand.
  /\/src\/features\/profiles\/(ProfileCard|ProfileDialog)\.tsx$/,
  /\/src\/features\/moderation\/RoomSettingsDialog\.tsx$/,
  /\/src\/features\/chat\/reactions\/EmojiPicker\.tsx$/,
  /\/src\/features\/chat\/markdown\/MarkdownBody\.tsx$/,
];

/**
 * The modules matching `patterns` that the initial JavaScript files hold, from their source maps
 * (`<file>.map`, which the build writes: `sourcemap: true` in vite.config.ts).
 */
export function eagerModules(dist: string, initialFiles: readonly string[], patterns: readonly RegExp[] = LAZY_ONLY): string[] {
  const found = new Set<string>();
  for (const file of initialFiles.filter((f) => f.endsWith(".js"))) {
    const map = JSON.parse(readFileSync(join(dist, `${file}.map`), "utf8")) as { sources: string[] };
    for (const source of map.sources) if (patterns.some((p) => p.test(source))) found.add(source);
  }
  return [...found];
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
  const eager = eagerModules(dist, report.initial.map((f) => f.file));
  for (const source of eager) console.error(`bundle: ${source} is in the initial bundle but must load lazily (import() it where it is used)`);
  const over = report.initialGzip > BUDGET_BYTES;
  if (over) console.error(`bundle: over budget by ${kb(report.initialGzip - BUDGET_BYTES)} kB gzip: load the heavy part lazily (import()) or drop it`);
  if (over || eager.length > 0) process.exit(1);
}
