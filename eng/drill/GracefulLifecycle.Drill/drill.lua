-- wrk script of the rollout drill: keep-alive connections, 1 request in 10 is slow (/slow?ms=200),
-- and a per-second timeline of 2xx and other answers written per thread to $DRILL_TIMELINE.<thread>.
local threads_started = 0
function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_id", threads_started)
end

local counter = 0
local second = nil
local ok, bad = 0, 0
local timeline = nil

local function flush()
  if second ~= nil and timeline ~= nil then
    timeline:write(string.format("%d %d %d\n", second, ok, bad))
    timeline:flush()
  end
  ok, bad = 0, 0
end

function init(args)
  local path = os.getenv("DRILL_TIMELINE")
  if path ~= nil and path ~= "" then
    timeline = io.open(path .. "." .. tostring(thread_id), "w")
  end
end

function request()
  counter = counter + 1
  if counter % 10 == 0 then
    return wrk.format("GET", "/slow?ms=200")
  end
  return wrk.format("GET", "/")
end

function response(status, headers, body)
  local now = os.time()
  if second ~= now then
    flush()
    second = now
  end
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end
