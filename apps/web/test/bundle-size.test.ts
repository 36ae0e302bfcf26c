import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { initialAssets, measure } from "../scripts/bundle-size.js";

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
});
