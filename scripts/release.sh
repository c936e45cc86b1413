#!/usr/bin/env bash
# The release path of the public @tfjs-diffusion/* packages, with changesets (docs/releasing.md).
#
#   scripts/release.sh pack [DIR]            build, then pack every public package into DIR (default
#                                            ./tarballs): use them before they are published with
#                                            npm install ./tarballs/tfjs-diffusion-core-0.1.0.tgz ...
#   scripts/release.sh version               apply the pending .changeset/*.md: bump versions, write
#                                            each package's CHANGELOG.md (then review and commit)
#   scripts/release.sh publish [--dry-run]   build, check the packages (publint, attw), then
#                                            pnpm publish -r (needs `npm login` or NPM_TOKEN);
#                                            --dry-run also shows what `version` would do, in a
#                                            scratch copy, and changes nothing here
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build() {
  pnpm exec turbo run build --output-logs=errors-only --filter='./packages/*'
}

# The public workspace packages: not "private": true.
public_packages() {
  for manifest in packages/*/package.json; do
    node -e 'const m = require(process.argv[1]); if (!m.private) console.log(process.argv[1].replace(/\/package\.json$/, ""))' "$root/$manifest" \
      | sed "s|^$root/||"
  done
}

# `changeset version` in a scratch copy of the manifests: prints each package's version change and
# the changelog it would write, leaving this tree untouched.
version_dry_run() {
  local scratch
  scratch=$(mktemp -d)
  cp package.json pnpm-workspace.yaml "$scratch/"
  cp -r .changeset "$scratch/"
  for manifest in packages/*/package.json apps/*/package.json examples/*/package.json; do
    mkdir -p "$scratch/$(dirname "$manifest")"
    cp "$manifest" "$scratch/$manifest"
    [ ! -f "$(dirname "$manifest")/CHANGELOG.md" ] || cp "$(dirname "$manifest")/CHANGELOG.md" "$scratch/$(dirname "$manifest")/"
  done
  ln -s "$root/node_modules" "$scratch/node_modules"
  (cd "$scratch" && node_modules/.bin/changeset version >/dev/null)
  for manifest in packages/*/package.json; do
    node -e '
      const [before, after] = process.argv.slice(1).map((file) => require(file));
      if (!before.private && before.version !== after.version) console.log(`${after.name}: ${before.version} -> ${after.version}`);
    ' "$root/$manifest" "$scratch/$manifest"
  done
  local changelog
  changelog=$(ls "$scratch"/packages/core/CHANGELOG.md 2>/dev/null || true)
  if [ -n "$changelog" ]; then
    echo "--- packages/core/CHANGELOG.md would read:"
    head -20 "$changelog"
  fi
  rm -rf "$scratch"
}

command=${1:-}
case "$command" in
  pack)
    destination=$(realpath -m "${2:-tarballs}")
    mkdir -p "$destination"
    build
    for package in $(public_packages); do
      (cd "$package" && pnpm pack --pack-destination "$destination" >/dev/null)
    done
    ls -1 "$destination"/*.tgz
    ;;
  version)
    pnpm exec changeset version
    pnpm install --lockfile-only
    echo "review the versions and CHANGELOG.md files, then commit them"
    ;;
  publish)
    dry_run=${2:-}
    if [ -n "$dry_run" ] && [ "$dry_run" != --dry-run ]; then
      echo "usage: scripts/release.sh publish [--dry-run]" >&2
      exit 2
    fi
    build
    node scripts/check-packages.mjs
    if [ "$dry_run" = --dry-run ]; then
      echo "--- changeset version (dry run):"
      version_dry_run
      echo "--- pnpm publish -r --dry-run:"
      pnpm publish -r --filter './packages/*' --dry-run --no-git-checks --access public
    else
      pnpm publish -r --filter './packages/*' --access public
      pnpm exec changeset tag
    fi
    ;;
  *)
    echo "usage: scripts/release.sh pack [DIR] | version | publish [--dry-run]" >&2
    exit 2
    ;;
esac
