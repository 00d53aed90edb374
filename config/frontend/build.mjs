// Builds static/css/careledger.css and copies GOV.UK Frontend's JS and the
// images the CSS refers to into static/, so the app itself needs no Node.
// Usage: npm run build   (from config/frontend)
import { copyFileSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const staticDir = join(root, "static");
const govuk = join(here, "node_modules", "govuk-frontend", "dist", "govuk");

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  console.log(`copied ${to.slice(root.length + 1)}`);
}

// 1. Sass -> compressed CSS, no source map.
const result = sass.compile(join(staticDir, "scss", "careledger.scss"), {
  style: "compressed",
  sourceMap: false,
  loadPaths: [join(here, "node_modules")],
  quietDeps: true,
});
const cssPath = join(staticDir, "css", "careledger.css");
mkdirSync(dirname(cssPath), { recursive: true });
writeFileSync(cssPath, result.css + "\n");
console.log(`wrote static/css/careledger.css (${result.css.length} bytes)`);

// 2. GOV.UK Frontend JavaScript (ES module, imported by static/js/careledger.js).
copy(join(govuk, "govuk-frontend.min.js"), join(staticDir, "js", "govuk-frontend.min.js"));

// 3. Every image the compiled CSS refers to under /static/govuk/, plus the favicon.
const wanted = new Set(["images/favicon.ico", "images/favicon.svg"]);
for (const m of result.css.matchAll(/url\(["']?\/static\/govuk\/([^"')]+)["']?\)/g)) {
  wanted.add(m[1]);
}
for (const rel of wanted) {
  if (rel.startsWith("fonts/")) {
    throw new Error(`CSS refers to a GOV.UK font (${rel}); GDS Transport must not be used`);
  }
  const from = join(govuk, "assets", rel);
  if (!existsSync(from)) throw new Error(`CSS refers to missing asset ${rel}`);
  copy(from, join(staticDir, "govuk", rel));
}
