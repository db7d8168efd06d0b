#!/usr/bin/env bash
# Packs every package under src/ into a local feed (eng/pack/feed.sh, into FEED_DIR when given, which must be empty
# or new), checks what each contains (README, symbols package, source link, version), then builds a consumer app
# outside the solution that restores them from a local folder feed (no project reference), starts it,
# waits for /ifready 200 and sends SIGTERM: it must exit 0. Prints "pack smoke: ok" or fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
repository_url="https://github.com/GracefulLifecycle/GracefulLifecycle"
# At least MinVer's minimum major.minor (Directory.Build.props): a lower tag would be ignored.
smoke_version="0.1.0-smoke.1"
work=$(mktemp -d)
# An optional folder keeps the feed for a later step (.ci/run hands it to eng/newcomer/run.sh); empty or new.
feed="${1:-$work/feed}"
mkdir -p "$feed"
[ -z "$(ls -A "$feed")" ] || { echo "pack smoke: $feed is not empty" >&2; exit 1; }
feed="$(cd "$feed" && pwd)"
app_pid=""
trap '[ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# Packed by eng/pack/feed.sh (what a user runs for a local feed): in a git checkout from a tagged clone whose origin
# is the public repository, as a CI checkout is, so the version and the source link are checked too.
tagged=""
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 && tagged=yes
if [ -n "$tagged" ]; then
  bash "$root/eng/pack/feed.sh" --version "$smoke_version" "$feed" >/dev/null
else
  bash "$root/eng/pack/feed.sh" "$feed" >/dev/null
fi

packages=()
for nupkg in "$feed"/*.nupkg; do
  file=$(basename "$nupkg" .nupkg)
  id=$(unzip -p "$nupkg" '*.nuspec' | sed -n 's:.*<id>\(.*\)</id>.*:\1:p')
  version=${file#"$id."}
  if [ -n "$tagged" ] && [ "$version" != "$smoke_version" ]; then
    echo "pack smoke: $id is version $version, not $smoke_version from the git tag v$smoke_version" >&2; exit 1
  fi
  [ -f "$feed/$file.snupkg" ] || { ls "$feed" >&2; echo "pack smoke: $id has no symbols package ($file.snupkg)" >&2; exit 1; }
  unzip -l "$nupkg" README.md >/dev/null || { echo "pack smoke: $id has no README.md" >&2; exit 1; }
  if unzip -p "$nupkg" README.md | grep -Eq '\]\((\.\.?/|docs/)'; then
    echo "pack smoke: $id README has a relative link, broken on a package page" >&2; exit 1
  fi
  if [ -n "$tagged" ]; then
    pdb=$(unzip -Z1 "$feed/$file.snupkg" | awk '/\.pdb$/ && !found { print; found = 1 }')
    # Read from a file, not a pipe: grep -q stops at the first match, and under pipefail the writer's SIGPIPE (exit
    # 141) would fail the check for a PDB large enough to be still streaming.
    unzip -p "$feed/$file.snupkg" "$pdb" > "$work/$id.pdb"
    grep -aq "raw.githubusercontent.com/GracefulLifecycle/GracefulLifecycle/" "$work/$id.pdb" ||
      { echo "pack smoke: $id symbols carry no source link to $repository_url" >&2; exit 1; }
  fi
  echo "pack smoke: $id $version (nupkg, snupkg, README, source link, version from the git tag)"
  packages+=("$id:$version")
done

app="$work/app"
mkdir -p "$app"
cp "$root/eng/pack/SmokeApp/Program.cs" "$app/"
{
  echo '<Project Sdk="Microsoft.NET.Sdk.Web">'
  echo '  <PropertyGroup><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings><TreatWarningsAsErrors>true</TreatWarningsAsErrors></PropertyGroup>'
  echo '  <ItemGroup>'
  for p in "${packages[@]}"; do echo "    <PackageReference Include=\"${p%%:*}\" Version=\"${p#*:}\" />"; done
  echo '  </ItemGroup>'
  echo '</Project>'
} > "$app/SmokeApp.csproj"
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="GracefulLifecycle*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
dotnet build "$app/SmokeApp.csproj" -c Release -nologo -v:q -p:NuGetAudit=false --packages "$work/nuget-packages" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ASPNETCORE_URLS="http://127.0.0.1:$port" dotnet "$app/bin/Release/net10.0/SmokeApp.dll" >"$work/app.log" 2>&1 &
app_pid=$!
ready=""
for _ in $(seq 1 300); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ifready" || true)" = "200" ]; then ready=yes; break; fi
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$ready" ] || { cat "$work/app.log" >&2; echo "pack smoke: the app never answered /ifready 200" >&2; exit 1; }
kill -TERM "$app_pid"
status=0
wait "$app_pid" || status=$?
app_pid=""

[ "$status" -eq 0 ] || { cat "$work/app.log" >&2; echo "pack smoke: exit code $status after SIGTERM" >&2; exit 1; }
echo "pack smoke: ok (${#packages[@]} packages restored from the local feed; /ifready 200; SIGTERM -> exit 0)"
