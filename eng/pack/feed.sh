#!/usr/bin/env bash
# Builds every package under src/ into a local folder feed, for an app to install them before they are published:
#
#   eng/pack/feed.sh ~/graceful-feed
#   dotnet nuget add source ~/graceful-feed --name graceful-local
#   dotnet add package GracefulLifecycle --prerelease
#
# The version is MinVer's, from the latest tag (docs/development.md, "Versions"): between tags a pre-release such as
# 0.1.0-alpha.0.42, hence --prerelease. With --version V the packages are built from a clone of the working tree
# (uncommitted changes included) tagged vV, with the public repository as its origin, as a CI checkout is: they then
# carry exactly V and their source link points at the public repository (eng/pack/smoke.sh checks both).
# Prints one line per package, "feed: <id> <version>".
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
repository_url="https://github.com/GracefulLifecycle/GracefulLifecycle"

version=""
if [ "${1:-}" = "--version" ]; then
  version=${2:?"--version needs a value, such as 0.1.0-local.1"}
  shift 2
fi
[ $# -eq 1 ] || { echo "usage: $0 [--version VERSION] FEED_DIR" >&2; exit 2; }
mkdir -p "$1"
feed="$(cd "$1" && pwd)"

src="$root"
work=""
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
if [ -n "$version" ]; then
  git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "feed: --version needs a git checkout (MinVer reads the version from a tag)" >&2; exit 1; }
  work=$(mktemp -d)
  git clone -q --no-hardlinks "$root" "$work/repo"
  git -C "$work/repo" remote set-url origin "$repository_url.git"
  # The working tree as it is (uncommitted changes included), committed in the clone.
  tar -C "$root" --exclude=./.git --exclude='bin' --exclude='obj' --exclude=./BenchmarkDotNet.Artifacts -cf - . | tar -C "$work/repo" -xf -
  git -C "$work/repo" add -A
  git -C "$work/repo" -c user.name=pack -c user.email=pack@localhost commit -q --allow-empty -m "working tree"
  git -C "$work/repo" tag "v$version"
  src="$work/repo"
fi

for project in "$src"/src/*/*.csproj; do
  CI=true dotnet pack "$project" -c Release -m:1 -o "$feed" -nologo -v:q
done

for nupkg in "$feed"/*.nupkg; do
  file=$(basename "$nupkg" .nupkg)
  id=$(unzip -p "$nupkg" '*.nuspec' | sed -n 's:.*<id>\(.*\)</id>.*:\1:p')
  echo "feed: $id ${file#"$id."}"
done
