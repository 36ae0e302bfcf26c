import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { eagerModules, initialAssets, measure } from "../scripts/bundle-size.js";

describe("bundle size check", () => {
  it("counts what index.html loads first: the entry, its modulepreloads and stylesheets", () => {
    const html = `<!doctype html><html><head>
      <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
      <script type="module" crossorigin src="/assets/index-abc.js"></script>
      <link rel="modulepreload" crossorigin href="/assets/vendor-def.js">
      <link rel="stylesheet" crossorigin href="/assets/index-ghi.css">
      <link rel="preconnect" href="https://example.com">
      <script src="https://cdn.example.com/x.js"></script>
    </head></html>`;
    expect(initialAssets(html)).toEqual(["assets/index-abc.js", "assets/vendor-def.js", "assets/index-ghi.css"]);
  });

  let dist: string | undefined;
  afterEach(() => {
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it("sums gzip sizes, initial and lazy apart", () => {
    dist = mkdtempSync(join(tmpdir(), "parley-bundle-"));
    mkdirSync(join(dist, "assets"));
    const entry = "console.log('entry');".repeat(200);
    const lazy = "export const big = " + JSON.stringify(Array.from({ length: 500 }, (_, i) => `item ${i}`)) + ";";
    writeFileSync(join(dist, "index.html"), `<script type="module" src="/assets/index.js"></script>`);
    writeFileSync(join(dist, "assets", "index.js"), entry);
    writeFileSync(join(dist, "assets", "Lazy.js"), lazy);
    const report = measure(dist);
    expect(report.initial).toEqual([{ file: "assets/index.js", gzip: gzipSync(entry, { level: 9 }).length }]);
    expect(report.lazy).toEqual([{ file: join("assets", "Lazy.js"), gzip: gzipSync(lazy, { level: 9 }).length }]);
    expect(report.initialGzip).toBe(report.initial[0]!.gzip);
  });

  it("finds modules that must load lazily in the initial chunks' source maps", () => {
    dist = mkdtempSync(join(tmpdir(), "parley-bundle-"));
    mkdirSync(join(dist, "assets"));
    const sources = (...paths: string[]) => JSON.stringify({ version: 3, sources: paths, mappings: "" });
    writeFileSync(join(dist, "assets", "index.js.map"), sources("../../src/main.tsx", "../../src/i18n/en.ts", "../../src/i18n/index.ts", "../../src/features/profiles/ProfileTrigger.tsx"));
    writeFileSync(join(dist, "assets", "late.js.map"), sources("../../src/i18n/zh-CN.ts"));
    // A lazy chunk may hold them; CSS has no map to read.
    expect(eagerModules(dist, ["assets/index.js", "assets/index.css"])).toEqual([]);
    // An initial one may not.
    const zod = "../../../../node_modules/.pnpm/zod@4.6.0/node_modules/zod/v4/classic/schemas.js";
    writeFileSync(join(dist, "assets", "index.js.map"), sources("../../src/main.tsx", "../../src/i18n/zh-CN.ts", zod, "../../src/features/profiles/ProfileCard.tsx"));
    expect(eagerModules(dist, ["assets/index.js"])).toEqual(["../../src/i18n/zh-CN.ts", zod, "../../src/features/profiles/ProfileCard.tsx"]);
  });
});
