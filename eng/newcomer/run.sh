#!/usr/bin/env bash
# The newcomer's path, replayed: the packages in a local feed (eng/pack/feed.sh, or the FEED_DIR given), a fresh
# `dotnet new web` app that installs them as README's Install section says, its Program.cs and preload task taken
# from README's Quick start (extracted here, so the README and this check cannot drift), run in Production; /health and
# /ifready checked, then rolled once: SIGTERM during steady traffic, which must all succeed while the instance serves
# out its shutdown delay, exit 0, and the app started again until ready. Offline but for nuget.org; kills what it
# starts; prints "newcomer: ok ..." or fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
work=$(mktemp -d)
app_pid=""
traffic_pid=""
cleanup() {
  [ -z "$traffic_pid" ] || kill "$traffic_pid" 2>/dev/null || true
  [ -z "$app_pid" ] || kill -KILL "$app_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  [ ! -s "$work/app.log" ] || { echo "--- app log:" >&2; tail -n 40 "$work/app.log" >&2; }
  echo "newcomer: $*" >&2
  exit 1
}
started=$(date +%s%N)
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

if [ $# -ge 1 ]; then
  feed="$(cd "$1" && pwd)"
else
  feed="$work/feed"
  bash "$root/eng/pack/feed.sh" "$feed" >/dev/null
fi
ls "$feed"/GracefulLifecycle.*.nupkg >/dev/null 2>&1 || fail "no GracefulLifecycle package in $feed"

# The first ```csharp block after a heading, or the first one that contains a given text.
snippet_after() {
  awk -v heading="$1" '
    $0 == heading { found = 1; next }
    found && /^```csharp$/ { inblock = 1; next }
    inblock && /^```$/ { exit }
    inblock { print }' "$root/README.md"
}
snippet_with() {
  awk -v text="$1" '
    /^```csharp$/ { inblock = 1; block = ""; next }
    inblock && /^```$/ { inblock = 0; if (index(block, text)) { printf "%s", block; exit } next }
    inblock { block = block $0 "\n" }' "$root/README.md"
}

# A new app, as `dotnet new web` makes it, with README's install line: the local feed added as a source first.
app="$work/NewcomerApp"
export NUGET_PACKAGES="$work/packages" # a version rebuilt under the same number must not come from the global cache
dotnet new web -o "$app" -n NewcomerApp --no-restore >/dev/null
(
  cd "$app"
  dotnet new nugetconfig >/dev/null
  dotnet nuget add source "$feed" --name graceful-local --configfile nuget.config >/dev/null
  dotnet add package GracefulLifecycle --prerelease >"$work/add.log" 2>&1 || { cat "$work/add.log" >&2; exit 1; }
) || fail "dotnet add package GracefulLifecycle --prerelease failed"
version=$(sed -n 's:.*Include="GracefulLifecycle" Version="\([^"]*\)".*:\1:p' "$app/NewcomerApp.csproj")

snippet_after "## Quick start" > "$app/Program.cs"
grep -q 'AddGracefulLifecycle' "$app/Program.cs" || fail "README's Quick start has no csharp block with AddGracefulLifecycle"
{ echo 'using GracefulLifecycle;'; echo; snippet_with ': IPreloadTask'; } > "$app/CatalogCacheWarmup.cs"
grep -q 'IPreloadTask' "$app/CatalogCacheWarmup.cs" || fail "README has no csharp block with a class implementing IPreloadTask"
# The app's own types, which README leaves to the reader: a catalog read from memory (offline).
cat > "$app/Catalog.cs" <<'CS'
public sealed record Product(int Id, string Name);

public interface ICatalogClient
{
    Task<IReadOnlyList<Product>> GetAllAsync(CancellationToken cancellationToken);
}

public sealed class CatalogClient(HttpClient http) : ICatalogClient
{
    public async Task<IReadOnlyList<Product>> GetAllAsync(CancellationToken cancellationToken)
    {
        _ = http;
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        return [new Product(1, "tea"), new Product(2, "coffee")];
    }
}

public sealed class CatalogCache
{
    private volatile IReadOnlyList<Product> _products = [];

    public void Fill(IReadOnlyList<Product> products) => _products = products;

    public IResult Find(int id) => _products.FirstOrDefault(p => p.Id == id) is { } product ? Results.Ok(product) : Results.NotFound();
}
CS
dotnet build "$app/NewcomerApp.csproj" -c Release -nologo -v:q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "the app built from README does not build"; }
built_ms=$(ms_since "$started")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base$1" || true; }

start_app() {
  # From the project folder, as `dotnet run` does: the content root, where appsettings.json is read, is the current one.
  (cd "$app" && ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="$base" exec dotnet bin/Release/net10.0/NewcomerApp.dll) >>"$work/app.log" 2>&1 &
  app_pid=$!
  local t0
  t0=$(date +%s%N)
  for _ in $(seq 1 600); do
    [ "$(code /ifready)" = "200" ] && { ready_ms=$(ms_since "$t0"); return 0; }
    kill -0 "$app_pid" 2>/dev/null || fail "the app exited before /ifready answered 200"
    sleep 0.1
  done
  fail "/ifready never answered 200 within 60 s"
}

start_app
first_ready_ms=$ready_ms
health=$(code /health)
[ "$health" = "200" ] || fail "/health answered $health in Production, not 200"
product=$(code /products/1)
[ "$product" = "200" ] || fail "/products/1 answered $product after ready (the preload fills the cache), not 200"

# The roll: steady traffic, SIGTERM, traffic on while balancers would still route here (well within the delay).
: > "$work/traffic.txt"
(
  while :; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$base/products/1" >> "$work/traffic.txt" || echo 000 >> "$work/traffic.txt"
    sleep 0.02
  done
) &
traffic_pid=$!
for _ in $(seq 1 100); do [ "$(wc -l < "$work/traffic.txt")" -ge 20 ] && break; sleep 0.05; done
term_at=$(date +%s%N)
kill -TERM "$app_pid"
readiness=""
for _ in $(seq 1 50); do readiness=$(code /ifready); [ "$readiness" = "503" ] && break; sleep 0.02; done
[ "$readiness" = "503" ] || fail "/ifready answered $readiness after SIGTERM, not 503"
while [ "$(ms_since "$term_at")" -lt 2000 ]; do sleep 0.1; done
kill "$traffic_pid" 2>/dev/null || true
wait "$traffic_pid" 2>/dev/null || true
traffic_pid=""
requests=$(wc -l < "$work/traffic.txt")
failed=$(grep -cv '^200$' "$work/traffic.txt" || true)
[ "$failed" -eq 0 ] || fail "$failed of $requests requests failed around the SIGTERM: $(sort "$work/traffic.txt" | uniq -c | tr '\n' ' ')"

status=0
for _ in $(seq 1 600); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$app_pid" 2>/dev/null && fail "the app still runs 60 s after SIGTERM"
wait "$app_pid" || status=$?
app_pid=""
exit_ms=$(ms_since "$term_at")
[ "$status" -eq 0 ] || fail "exit code $status after SIGTERM, not 0"

# The new version of the roll: started again on the same address, until ready; then stopped the quick way (a
# second signal cuts the delay short).
start_app
second_ready_ms=$ready_ms
kill -TERM "$app_pid"
for _ in $(seq 1 50); do [ "$(code /ifready)" != "200" ] && break; sleep 0.02; done
kill -TERM "$app_pid" 2>/dev/null || true
status=0
wait "$app_pid" || status=$?
app_pid=""
[ "$status" -eq 0 ] || fail "exit code $status after the restarted app's SIGTERMs, not 0"

echo "newcomer: ok (GracefulLifecycle $version from the local feed with --prerelease; README's Quick start built in $((built_ms / 1000)) s;" \
  "Production: /health 200, /ifready 200 ${first_ready_ms} ms after start; roll: $requests requests, 0 failed, /ifready 503 at SIGTERM," \
  "exit 0 ${exit_ms} ms after it; restarted, ready in ${second_ready_ms} ms; $(( $(ms_since "$started") / 1000 )) s in all)"
