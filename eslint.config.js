// @ts-check
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

/**
 * Layering (see STYLE.md: imports flow shared <- server, shared <- client <- web, never between the
 * apps; inside the server handlers -> services -> storage interface <- implementations). Enforced
 * with no-restricted-imports, which checks `import` and `export ... from` (type-only ones too), not
 * dynamic `import()`. ESLint replaces a rule's options for files that a later block matches, so a
 * narrower block repeats the restrictions of the wider one (see `restrict`).
 */
const layers = {
  /** apps/server never imports apps/web. */
  server: [
    { group: ["@parley/web", "@parley/web/*"], message: "apps never import each other: move shared code to packages/shared." },
    { regex: "(^|/)apps/web(/|$)|^(\\.\\./)+web/", message: "apps never import each other: move shared code to packages/shared." },
  ],
  /** apps/web never imports apps/server. */
  web: [
    { group: ["@parley/server", "@parley/server/*"], message: "apps never import each other: move shared code to packages/shared." },
    { regex: "(^|/)apps/server(/|$)|^(\\.\\./)+server/", message: "apps never import each other: move shared code to packages/shared." },
  ],
  /** Domain services know nothing of sockets or HTTP: handlers call services, not the other way round. */
  domain: [
    { regex: "^\\.{1,2}/(.*/)?(realtime|http)(/|$)", message: "apps/server/src/domain never imports realtime or http: handlers call services." },
  ],
  /** Storage implements the storage interface; services depend on it, so it cannot depend on them. */
  storage: [
    { regex: "^\\.{1,2}/(.*/)?domain(/|$)", message: "apps/server/src/storage never imports domain: services call storage." },
  ],
  /** Blob storage is a storage layer too: upload and download routes call it, never the reverse. */
  blobs: [
    { regex: "^\\.{1,2}/(.*/)?(domain|realtime|http)(/|$)", message: "apps/server/src/blobs never imports domain, realtime or http: they call the blob store." },
  ],
  /** The DOM-free client core runs in bots and tests too: the web app builds on it, not the reverse. */
  client: [
    { group: ["@parley/web", "@parley/web/*"], message: "packages/client never imports apps/web." },
    { regex: "(^|/)apps/web(/|$)", message: "packages/client never imports apps/web." },
  ],
  /** The protocol both sides import depends on nothing else in the workspace. */
  shared: [
    { group: ["@parley/*"], message: "packages/shared imports nothing from the workspace." },
    { regex: "(^|/)(apps|packages)/|^(\\.\\./)+(client|server|web|e2e|bench)(/|$)", message: "packages/shared imports nothing from the workspace." },
  ],
};

/** Attributes that people read or hear: their values must come from `t(...)`. */
const humanAttributes = "/^(aria-label|aria-description|aria-roledescription|aria-placeholder|aria-valuetext|title|placeholder|alt|label)$/";
/** A letter or CJK ideograph: esquery regexes have no \p{L}, so the common scripts are listed (without × and ÷). */
const letter = "/[A-Za-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u024F\\u0370-\\u03FF\\u0400-\\u04FF\\u3040-\\u30FF\\u4E00-\\u9FFF\\uAC00-\\uD7AF]/";
const literalMessage = "User-visible text comes from the dictionaries: use t(\"key\") (apps/web/src/i18n/en.ts and zh-CN.ts).";
/** An expression whose value is rendered as text: a JSX child, or a human attribute's value. */
const shown = `:matches(JSXElement, JSXFragment, JSXAttribute[name.name=${humanAttributes}]) > JSXExpressionContainer`;
/** The branches of `a ? "x" : "y"` and `a || "x"` are shown too. */
const branch = ":matches(ConditionalExpression, LogicalExpression)";
/**
 * Only the direct shapes are matched (not any descendant), so `t("key")`'s argument and the
 * `className` of a nested element are not mistaken for text.
 */
const noLiteralsInJsx = [
  // <p>Hello</p>
  `JSXText[value=${letter}]`,
  // <p>{"Hello"}</p>, <p>{ok ? "Yes" : "No"}</p>, <p>{`Hi ${name}`}</p>, title={"Close"}
  `${shown} > Literal[value=${letter}]`,
  `${shown} > ${branch} > Literal[value=${letter}]`,
  `${shown} > TemplateLiteral > TemplateElement[value.raw=${letter}]`,
  `${shown} > ${branch} > TemplateLiteral > TemplateElement[value.raw=${letter}]`,
  // aria-label="Close", placeholder="Message"
  `JSXAttribute[name.name=${humanAttributes}] > Literal[value=${letter}]`,
  // window.confirm("Leave?"), alert(`…`), new Notification("…")
  `:matches(CallExpression[callee.property.name=/^(confirm|alert|prompt)$/], CallExpression[callee.name=/^(confirm|alert|prompt)$/], NewExpression[callee.name="Notification"]) > :matches(Literal[value=${letter}], TemplateLiteral)`,
].map((selector) => ({ selector, message: literalMessage }));

/** A config block that forbids the given layers' imports in `files`. */
const restrict = (files, ...patterns) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns: patterns.flat() }] },
});

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/test-results/**", "**/playwright-report/**", "data/**"] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": ["error", { allow: ["warn", "error"] }],
      eqeqeq: ["error", "always"],
    },
  },
  {
    files: ["apps/web/src/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
    },
  },
  {
    // No string left in code (ADR 0015): every user-visible string comes from the dictionaries in
    // apps/web/src/i18n, so a translation can't miss one. Text with a letter (any script) in JSX,
    // or in an attribute a person reads or hears, is an error; punctuation such as "·" or "%" is not.
    files: ["apps/web/src/**/*.{ts,tsx}"],
    ignores: ["apps/web/src/i18n/**"],
    rules: {
      "no-restricted-syntax": ["error", ...noLiteralsInJsx],
    },
  },
  {
    // Command-line tools and the logger print by design.
    files: ["bench/**", "e2e/**", "apps/server/src/logger.ts", "apps/server/src/main.ts", "**/*.config.*"],
    rules: { "no-console": "off" },
  },
  restrict(["apps/server/**/*.{ts,tsx}"], layers.server),
  restrict(["apps/server/src/domain/**/*.{ts,tsx}"], layers.server, layers.domain),
  restrict(["apps/server/src/storage/**/*.{ts,tsx}"], layers.server, layers.storage),
  restrict(["apps/server/src/blobs/**/*.{ts,tsx}"], layers.server, layers.blobs),
  restrict(["apps/web/**/*.{ts,tsx}"], layers.web),
  restrict(["packages/client/**/*.{ts,tsx}"], layers.client),
  restrict(["packages/shared/**/*.{ts,tsx}"], layers.shared),
);
