#!/usr/bin/env bash
# Release rehearsal (CI runs it; CONTRIBUTING.md "Releasing"): publish every public package of the
# workspace to a local registry and use them by name, with plain npm, where a user would.
#
#  1. `changeset version` on a scratch copy of the manifests: the fixed group bumps every @faucet
#     package to one new version (nothing in the workspace changes).
#  2. Verdaccio ${VERDACCIO_VERSION} on 127.0.0.1:${PORT}, its storage in a temporary directory, holding
#     only @faucet/* (no uplink); `pnpm -r publish` of every public package to it (prepack builds).
#  3. In an empty directory under /tmp (no package.json above it), with a .npmrc mapping only @faucet to
#     the local registry (everything else comes from the machine's usual registry) and plain npm:
#     - `npm i` of every published package by name; `npx faucet connectors` lists every connector;
#       `npx faucet run` moves a REST API (a local HTTP server) into a file; `faucet state get`
#       shows @faucet/source-rest's version;
#     - the connector template, packed with `pnpm pack`, installed beside the CLI and listed;
#  4. In a second empty directory: `npm i @faucet/core @faucet/source-rest @faucet/sink-file` and a
#     TypeScript program using the embedding API, compiled with `tsc --strict --module nodenext`
#     (library types checked too) and run.
#
# Needs a build (`pnpm build`) and the npm registry. Takes about a minute with a warm npm cache.
#   bash scripts/release-rehearsal.sh
#   FAUCET_KEEP_REHEARSAL=1 bash scripts/release-rehearsal.sh   # keep the temporary directory
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

VERDACCIO_VERSION=6.8.0 # 6.8 is the last that runs on Node 20 (6.10 needs 22)
TYPESCRIPT_VERSION=5.9.3
TYPES_NODE_VERSION=20.19.25
PORT="${FAUCET_REHEARSAL_PORT:-14873}"
REGISTRY="http://127.0.0.1:${PORT}/"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/faucet-verdaccio/${VERDACCIO_VERSION}"
started=$SECONDS

step() { printf '\n== rehearsal [%3d s] %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  printf 'rehearsal FAILED: %s\n' "$*" >&2
  exit 1
}

[[ -f apps/cli/dist/bin.js ]] || fail "no build: run pnpm build first"

work="$(mktemp -d "${FAUCET_REHEARSAL_TMP:-/tmp}/faucet-release-rehearsal.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n "${FAUCET_KEEP_REHEARSAL:-}" ]]; then echo "rehearsal files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The install directories must have no workspace (no package.json, no node_modules) above them.
case "$work" in "$ROOT"/* | /work/*) fail "$work is inside the workspace; set FAUCET_REHEARSAL_TMP" ;; esac
dir="$(dirname "$work")"
while :; do
  [[ ! -e "$dir/package.json" && ! -e "$dir/node_modules" ]] || fail "$dir has a package.json or node_modules above the rehearsal directory"
  [[ "$dir" == / ]] && break
  dir="$(dirname "$dir")"
done

# The public @faucet packages of the workspace (whatever exists now): "name<TAB>dir<TAB>kind" lines.
public_packages() {
  CHECK_PACKAGES="$ROOT/scripts/check-packages.mjs" node --input-type=module -e '
    const { workspaceDirs } = await import(process.env.CHECK_PACKAGES);
    const { readFileSync } = await import("node:fs");
    for (const dir of workspaceDirs()) {
      const m = JSON.parse(readFileSync(dir + "/package.json", "utf8"));
      if (m.private !== true) console.log([m.name, dir, m.faucet?.kind ?? "", m.version].join("\t"));
    }'
}
mapfile -t PACKAGES < <(public_packages)
[[ ${#PACKAGES[@]} -gt 0 ]] || fail "no public package found"
names=()
for line in "${PACKAGES[@]}"; do names+=("$(cut -f1 <<<"$line")"); done
version_of() { for line in "${PACKAGES[@]}"; do [[ "$(cut -f1 <<<"$line")" == "$1" ]] && cut -f4 <<<"$line"; done; }

step "1. changeset version on a scratch copy: one new version for the fixed group"
scratch="$work/changeset"
mkdir -p "$scratch"
cp package.json pnpm-workspace.yaml "$scratch/"
cp -r .changeset "$scratch/"
# Every workspace package (private ones too: they are part of the dependency graph).
while IFS= read -r dir; do
  mkdir -p "$scratch/$dir"
  cp "$dir/package.json" "$scratch/$dir/package.json"
done < <(CHECK_PACKAGES="$ROOT/scripts/check-packages.mjs" node --input-type=module -e '
  const { workspaceDirs } = await import(process.env.CHECK_PACKAGES);
  for (const dir of workspaceDirs()) console.log(dir);')
(cd "$scratch" && "$ROOT/node_modules/.bin/changeset" version >"$work/changeset.log" 2>&1) ||
  fail "changeset version: $(cat "$work/changeset.log")"
node --input-type=module -e '
  const [scratch, ...lines] = process.argv.slice(1);
  const { readFileSync } = await import("node:fs");
  const bumped = lines.map((l) => l.split("\t")).map(([name, dir, , before]) => ({
    name, before, after: JSON.parse(readFileSync(`${scratch}/${dir}/package.json`, "utf8")).version,
  }));
  const versions = new Set(bumped.map((b) => b.after));
  const pending = bumped.some((b) => b.after !== b.before);
  if (versions.size !== 1) {
    console.error("the fixed group split: " + bumped.map((b) => `${b.name}@${b.after}`).join(", "));
    process.exit(1);
  }
  // A major release only when a changeset asks for one (a peer range that a minor release leaves
  // makes changesets bump every dependent to a major).
  const { readdirSync } = await import("node:fs");
  const askedMajor = readdirSync(".changeset").filter((f) => f.endsWith(".md") && f !== "README.md")
    .some((f) => /^---[\s\S]*?:\s*["\x27]?major["\x27]?\s*$[\s\S]*?^---/m.test(readFileSync(`.changeset/${f}`, "utf8")));
  const major = (v) => v.split(".")[0];
  if (!askedMajor && major([...versions][0]) !== major(bumped[0].before)) {
    console.error(`no changeset asks for a major release, but changeset version made ${bumped[0].before} -> ${[...versions][0]}`);
    process.exit(1);
  }
  console.log(pending
    ? `every public package: ${bumped[0].before} -> ${[...versions][0]} (${bumped.length} packages)`
    : `no pending changeset; every public package stays at ${[...versions][0]}`);
' "$scratch" "${PACKAGES[@]}" || fail "changeset version did not keep the @faucet packages together"

step "2. Verdaccio ${VERDACCIO_VERSION} on 127.0.0.1:${PORT}"
if [[ ! -x "$CACHE/node_modules/.bin/verdaccio" ]]; then
  echo "installing verdaccio@${VERDACCIO_VERSION} into $CACHE (npm registry; once per machine)"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "verdaccio@${VERDACCIO_VERSION}" >/dev/null || fail "npm install verdaccio@${VERDACCIO_VERSION}"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null; then
  fail "127.0.0.1:${PORT} is in use (another rehearsal?); set FAUCET_REHEARSAL_PORT"
fi
mkdir -p "$work/registry/storage"
cat >"$work/registry/config.yaml" <<YAML
storage: $work/registry/storage
auth:
  htpasswd:
    file: $work/registry/htpasswd
    max_users: 10
uplinks: {}
packages:
  '@faucet/*':
    access: \$all
    publish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
log: { type: file, path: $work/registry/verdaccio.log, level: warn }
publish:
  allow_offline: true
YAML
"$CACHE/node_modules/.bin/verdaccio" --config "$work/registry/config.yaml" --listen "127.0.0.1:${PORT}" \
  >"$work/registry/stdout.log" 2>&1 &
pids+=($!)
# Wait for it (node's fetch: no curl needed), then create the publishing user and take its token.
ping() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "${REGISTRY}-/ping"; }
for _ in $(seq 1 150); do
  ping && break
  kill -0 "${pids[-1]}" 2>/dev/null || fail "verdaccio exited: $(tail -n 20 "$work/registry/stdout.log")"
  sleep 0.2
done
ping || fail "verdaccio did not answer on ${REGISTRY} within 30 s"
token="$(node -e '
  fetch(process.argv[1], {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "rehearsal", password: "rehearsal-only" }),
  }).then(async (r) => console.log((await r.json()).token), () => process.exit(1))' \
  "${REGISTRY}-/user/org.couchdb.user:rehearsal")"
[[ -n "$token" && "$token" != undefined ]] || fail "verdaccio gave no token"
echo "up after $((SECONDS - started)) s"

step "3. pnpm -r publish of ${#names[@]} public packages to the local registry"
publish_rc="$work/publish.npmrc"
{
  [[ -f "$HOME/.npmrc" ]] && cat "$HOME/.npmrc"
  echo "//127.0.0.1:${PORT}/:_authToken=${token}"
} >"$publish_rc"
NPM_CONFIG_USERCONFIG="$publish_rc" pnpm -r publish --registry "$REGISTRY" --no-git-checks \
  >"$work/publish.log" 2>&1 || fail "pnpm publish: $(tail -n 40 "$work/publish.log")"
# What the local registry holds now: "name<TAB>latest<TAB>integrity" per package.
node --input-type=module -e '
  const [registry, ...names] = process.argv.slice(1);
  for (const name of names) {
    const res = await fetch(registry + name.replace("/", "%2f"));
    if (!res.ok) { console.error(`${name}: HTTP ${res.status} from the local registry`); process.exit(1); }
    const doc = await res.json();
    const latest = doc["dist-tags"]?.latest;
    console.log([name, latest, doc.versions?.[latest]?.dist?.integrity ?? ""].join("\t"));
  }' "$REGISTRY" "${names[@]}" >"$work/published.tsv" || fail "the local registry lacks a package"
published() { awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$work/published.tsv"; }
for name in "${names[@]}"; do
  [[ "$(published "$name" 2)" == "$(version_of "$name")" ]] ||
    fail "$name: the registry has $(published "$name" 2), the workspace $(version_of "$name")"
done
echo "published: ${names[*]}"

# A user's project: a .npmrc mapping only @faucet to the local registry; plain npm.
new_project() {
  mkdir -p "$1"
  printf '{ "name": "%s", "version": "0.0.0", "private": true, "type": "module" }\n' "$(basename "$1")" >"$1/package.json"
  echo "@faucet:registry=${REGISTRY}" >"$1/.npmrc"
}
npm_install() {
  local project=$1
  shift
  (cd "$project" && npm install --no-audit --no-fund --prefer-online --loglevel=error "$@") \
    >"$project/npm-install.log" 2>&1 || fail "npm install $* in $project: $(tail -n 30 "$project/npm-install.log")"
}
faucet() { (cd "$app" && npx --no-install faucet "$@"); }

step "4. npm i of every published package by name, in $work/app"
app="$work/app"
new_project "$app"
npm_install "$app" "${names[@]}"
# Each installed @faucet package is the tarball the local registry holds (same integrity).
for name in "${names[@]}"; do
  want="$(published "$name" 3)"
  got="$(node -p 'require(process.argv[1] + "/package-lock.json").packages["node_modules/" + process.argv[2]]?.integrity' "$app" "$name")"
  [[ -n "$want" && "$got" == "$want" ]] || fail "$name in $app is not the tarball published to the local registry"
done
[[ "$(faucet --version)" == "$(version_of @faucet/cli)" ]] || fail "npx faucet --version: $(faucet --version)"

step "5. npx faucet connectors lists every connector package"
faucet connectors -o json >"$work/connectors.json" || fail "npx faucet connectors failed"
expected=()
for line in "${PACKAGES[@]}"; do
  [[ -n "$(cut -f3 <<<"$line")" ]] && expected+=("$(cut -f1 <<<"$line")")
done
node -e '
  const [file, ...want] = process.argv.slice(1);
  const listed = require(file);
  const found = new Set(listed.connectors.map((c) => c.package));
  const missing = want.filter((name) => !found.has(name));
  if (missing.length || listed.broken.length) {
    console.error("missing: " + missing.join(", ") + "; broken: " + JSON.stringify(listed.broken));
    process.exit(1);
  }
  console.log(listed.connectors.map((c) => `${c.kind} ${c.id} (${c.package}@${c.version})`).join("\n"));
' "$work/connectors.json" "${expected[@]}" || fail "faucet connectors did not list every connector"

step "6. npx faucet run: REST (a local HTTP server) -> file"
cat >"$work/api.mjs" <<'JS'
// 250 records, `?page=N&per_page=M`, as `{data: [...]}`; prints its port.
import { createServer } from 'node:http';
const records = Array.from({ length: 250 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}` }));
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const page = Number(url.searchParams.get('page') ?? 1);
  const size = Number(url.searchParams.get('per_page') ?? 100);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ data: records.slice((page - 1) * size, page * size) }));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
JS
node "$work/api.mjs" >"$work/api.port" &
pids+=($!)
for _ in $(seq 1 50); do [[ -s "$work/api.port" ]] && break; sleep 0.1; done
api="http://127.0.0.1:$(cat "$work/api.port")"
cat >"$app/pipeline.yaml" <<YAML
version: 1
name: rehearsal
pipeline:
  source:
    type: rest
    config:
      base_url: ${api}
      path: /items
      records_path: \$.data
      pagination: { type: page_number, page_size: 100, page_size_param: per_page }
      replication_method: { type: Incremental, cursor_field: id }
  sink: { type: file, config: { path: ./out/items.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
YAML
faucet run pipeline.yaml -o json -q >"$work/run.json" || fail "npx faucet run: $(cat "$work/run.json")"
written="$(node -p 'require(process.argv[1]).records_written' "$work/run.json")"
lines="$(wc -l <"$app/out/items.jsonl")"
[[ "$written" == 250 && "$lines" -eq 250 ]] || fail "faucet run wrote $written records ($lines lines), not 250"
faucet run pipeline.yaml -o json -q >"$work/run.json" || fail "npx faucet run (again): $(cat "$work/run.json")"
again="$(node -p 'require(process.argv[1]).records_written' "$work/run.json")"
[[ "$again" == 0 ]] || fail "the second faucet run wrote $again records, not 0 (resume from the stored cursor)"
faucet state get rehearsal::row-0 -c pipeline.yaml -o json >"$work/state.json" || fail "faucet state get"
node -e '
  const [file, version] = process.argv.slice(1);
  const { source } = require(file);
  if (source.type !== "rest" || source.version !== version) {
    console.error(`state envelope source: ${JSON.stringify(source)}, expected rest ${version}`);
    process.exit(1);
  }
  console.log(`250 records written, then 0; the state envelope records source rest ${source.version}`);
' "$work/state.json" "$(version_of @faucet/source-rest)" || fail "faucet state get: wrong source version"

step "7. the connector template, packed, installed beside the CLI and listed"
template_dir="examples/connector-template"
template="$(node -p 'require("./'$template_dir'/package.json").name')"
(cd "$template_dir" && pnpm pack --pack-destination "$work" >"$work/template-pack.log" 2>&1) ||
  fail "pnpm pack of the template: $(cat "$work/template-pack.log")"
npm_install "$app" "$work/$template"-*.tgz
faucet connectors -o json >"$work/connectors.json"
node -e '
  const [file, pkg] = process.argv.slice(1);
  const found = require(file).connectors.find((c) => c.package === pkg);
  if (!found) { console.error(`${pkg} is not listed`); process.exit(1); }
  console.log(`${found.kind} ${found.id} (${found.package}@${found.version}), ${found.location}`);
' "$work/connectors.json" "$template" || fail "faucet connectors does not list the template"

step "8. the embedding API from TypeScript: tsc --strict --module nodenext, then node"
embed="$work/embed"
new_project "$embed"
npm_install "$embed" @faucet/core @faucet/source-rest @faucet/sink-file \
  "typescript@${TYPESCRIPT_VERSION}" "@types/node@${TYPES_NODE_VERSION}"
cat >"$embed/embed.ts" <<'TS'
import { createFileStateStore, type PipelineResult, runPipeline } from '@faucet/core';
import { createFileSink, fileSinkConfigSchema } from '@faucet/sink-file';
import { createRestSource } from '@faucet/source-rest';

const baseUrl = process.argv[2];
if (baseUrl === undefined) throw new Error('usage: node embed.js <base_url>');
const result: PipelineResult = await runPipeline({
  pipeline: 'embedded',
  source: createRestSource({
    base_url: baseUrl,
    path: '/items',
    records_path: '$.data',
    pagination: { type: 'page_number', page_size: 100, page_size_param: 'per_page' },
  }),
  sink: createFileSink(fileSinkConfigSchema.parse({ path: './out/embedded.jsonl', format: 'jsonl' })),
  state: createFileStateStore({ path: './state' }),
  batchSize: 100,
});
console.log(JSON.stringify({ status: result.status, written: result.recordsWritten }));
if (result.status !== 'ok') process.exitCode = 1;
TS
(cd "$embed" && npx --no-install tsc --strict --module nodenext --moduleResolution nodenext --target es2022 \
  --types node embed.ts >"$work/tsc.log" 2>&1) || fail "tsc: $(cat "$work/tsc.log")"
out="$(cd "$embed" && node embed.js "$api")" || fail "node embed.js: $out"
[[ "$out" == '{"status":"ok","written":250}' ]] || fail "embed.js printed $out"
echo "compiled with tsc ${TYPESCRIPT_VERSION} --strict, ran: $out"

printf '\nrehearsal: ok — %d packages published to a local registry and used by name with npm, in %d s\n' \
  "${#names[@]}" "$((SECONDS - started))"
