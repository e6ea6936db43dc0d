// Differential oracle for the Rust `.env` reader (tests/dotenv_oracle.rs).
//
// Usage: node tests/node/dotenv-oracle.mjs FILE...
// Prints one JSON object on stdout: { "<file as given>": { "dotenv": {...}, "next": {...} } }
//   dotenv: what `dotenv.parse` (16.6.1) returns for the file's bytes;
//   next:   what a Next.js app sees when the file is its `.env.local` (@next/env 16.5.0, which
//           runs dotenv-expand over the parsed values).
// The packages are resolved from this script's folder: run `npm ci --prefix tests/node` first.

import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const dotenv = require("dotenv");
const nextEnv = require("@next/env");

// @next/env skips `.env.local` when NODE_ENV is "test", and remembers the environment it first
// sees, so this has to go before the first load.
delete process.env.NODE_ENV;

function nextView(bytes, parsed) {
  const dir = mkdtempSync(join(tmpdir(), "dotenv-oracle-"));
  try {
    writeFileSync(join(dir, ".env.local"), bytes);
    const already = new Set(Object.keys(process.env));
    const silent = { info() {}, error() {} };
    const { combinedEnv } = nextEnv.loadEnvConfig(dir, true, silent, true);
    const seen = {};
    for (const [key, value] of Object.entries(combinedEnv)) {
      if (key === "__NEXT_PROCESSED_ENV") continue;
      // Variables the process already had are not the file's, unless the file names them.
      if (!already.has(key) || Object.hasOwn(parsed, key)) seen[key] = value;
    }
    return seen;
  } finally {
    // Put process.env back so one file's variables cannot leak into the next file's view.
    nextEnv.resetEnv();
    rmSync(dir, { recursive: true, force: true });
  }
}

const out = {};
for (const file of process.argv.slice(2)) {
  const bytes = readFileSync(file);
  const parsed = dotenv.parse(bytes);
  out[file] = { dotenv: parsed, next: nextView(bytes, parsed) };
}
process.stdout.write(JSON.stringify(out) + "\n");
