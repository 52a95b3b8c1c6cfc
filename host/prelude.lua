-- The host prelude: runs once in every state, before any user code.
-- gopher-lua's own pcall/xpcall cannot be yielded across, and its
-- coroutine.resume would swallow the host's yields. Here pcall runs its
-- function in a coroutine and passes every yield through to whoever resumed
-- the caller (ultimately the scheduler), so a host call inside pcall
-- suspends the whole task and resumes exactly where it left off.
local HOST, arm, fatal = ...
local co_create, co_resume, co_yield, co_status =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local error = error

local function id(...) return ... end
local function trampoline(handler, f, ...)
  arm(handler)
  return id(f(...))
end

local function pfinish(co, ok, ...)
  if co_status(co) == "dead" then
    if ok then return true, ... end
    local e = ...
    if fatal(e) then error(e, 0) end
    return false, e
  end
  return pfinish(co, co_resume(co, co_yield(...)))
end

function pcall(f, ...)
  local co = co_create(trampoline)
  return pfinish(co, co_resume(co, false, f, ...))
end

function xpcall(f, handler, ...)
  local co = co_create(trampoline)
  return pfinish(co, co_resume(co, handler or false, f, ...))
end

-- User coroutines: a host yield from inside one is passed up and its
-- result passed back down; only the user's own yields come back here.
local function rfinish(co, ok, ...)
  if ok and (...) == HOST and co_status(co) == "suspended" then
    return rfinish(co, co_resume(co, co_yield(...)))
  end
  return ok, ...
end

local function resume(co, ...)
  return rfinish(co, co_resume(co, ...))
end
coroutine.resume = resume

local function wfinish(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

function coroutine.wrap(f)
  local co = co_create(f)
  return function(...) return wfinish(rfinish(co, co_resume(co, ...))) end
end

return trampoline
