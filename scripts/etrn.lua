-- etrn: ask backup MX servers to deliver the mail they hold for your domains (ETRN, RFC 1985)
--
--   gos3lua etrn.lua --server backup-mx.example.net example.com example.org
--   gos3lua etrn.lua --config /etc/etrn.lua                # every server, every domain
--   gos3lua etrn.lua --config /etc/etrn.lua example.com    # only this domain
--
-- The config file is a Lua table mapping servers (host or host:port) to the
-- domains they keep mail for:
--
--   return {
--     ["backup-mx.example.net"] = {"example.com", "example.org"},
--     ["mx2.example.net:2525"]  = {"example.com"},
--   }
--
-- One line per server and domain, servers in name order:
--
--   backup-mx.example.net example.com 250 Queuing started
--   backup-mx.example.net example.org 459 4.3.0 <example.org>: service unavailable
--
-- Servers are asked at once. Exit status 0 when every reply is 250-253,
-- 1 otherwise, 2 on bad usage.
local args = require("args")
local smtp = require("smtp")
local task = require("task")

local opts = args.parse{
  name = "etrn.lua",
  description = "Ask backup MX servers to deliver the mail they hold for your domains (ETRN).",
  options = {
    {"s", "server", metavar = "HOST[:PORT]", multiple = true, help = "backup server (repeatable); with --config, only these"},
    {"c", "config", metavar = "FILE", help = "Lua file returning {[server] = {domain, ...}, ...}"},
    {nil, "port", type = "integer", default = 25, help = "port of servers given without one"},
    {nil, "timeout", type = "duration", default = "30s", help = "for each step (connect, each reply)"},
    {nil, "helo", metavar = "NAME", help = "EHLO name (default this host's name)"},
    {nil, "starttls", type = "boolean", help = "use STARTTLS when the server offers it"},
    {nil, "transcript", type = "boolean", help = "print each conversation, swaks-style, under its lines"},
  },
  positional = {
    {"DOMAIN", multiple = true, help = "domains to ask for (with --config: only these)"},
  },
}

local function usage(msg)
  io.stderr:write("etrn.lua: ", msg, "\ntry etrn.lua --help\n")
  os.exit(2)
end

if opts.port < 1 or opts.port > 65535 then usage("--port must be 1-65535, not " .. opts.port) end
if opts.timeout <= 0 then usage("--timeout must be positive") end
-- An ETRN argument is one word: a domain, @domain or #queue (RFC 1985).
local function check_domain(d, where)
  if type(d) ~= "string" or d == "" or d:find("[%s%c]") then
    usage(where .. ": bad domain " .. string.format("%q", tostring(d)) .. " (one word: a domain, @domain or #queue)")
  end
end
for _, d in ipairs(opts.domain) do check_domain(d, "DOMAIN") end

-- plan[server] = {domain, ...}
local plan = {}
if opts.config then
  local chunk, err = loadfile(opts.config)
  if not chunk then usage("--config: " .. tostring(err)) end
  setfenv(chunk, {}) -- a data file: no access to anything
  local ok, conf = pcall(chunk)
  if not ok then usage("--config " .. opts.config .. ": " .. tostring(conf)) end
  if type(conf) ~= "table" then usage("--config " .. opts.config .. ": must return a table {[server] = {domain, ...}}") end
  local only_server, only_domain = {}, {}
  for _, s in ipairs(opts.server) do only_server[s] = true end
  for _, d in ipairs(opts.domain) do only_domain[d:lower()] = true end
  for server, domains in pairs(conf) do
    if type(server) ~= "string" or type(domains) ~= "table" then
      usage("--config " .. opts.config .. ": want [\"server\"] = {\"domain\", ...}, got a " .. type(domains) .. " for " .. tostring(server))
    end
    if #opts.server == 0 or only_server[server] then
      for _, d in ipairs(domains) do
        check_domain(d, "--config " .. opts.config .. ": " .. server)
        if #opts.domain == 0 or only_domain[d:lower()] then
          plan[server] = plan[server] or {}
          table.insert(plan[server], d)
        end
      end
    end
  end
  if next(plan) == nil then usage("nothing to do: no server in " .. opts.config .. " keeps mail for the domains given") end
else
  if #opts.server == 0 then usage("give --server HOST or --config FILE") end
  if #opts.domain == 0 then usage("give at least one DOMAIN") end
  for _, s in ipairs(opts.server) do plan[s] = opts.domain end
end

local servers = {}
for s in pairs(plan) do servers[#servers + 1] = s end
table.sort(servers)

-- One connection per server, one ETRN per domain on it.
local function ask(server)
  local rows, lines = {}, opts.transcript and {} or nil
  local c
  local ok, err = pcall(function()
    c = smtp.connect(server, {
      port = opts.port, timeout = opts.timeout, helo = opts.helo, verify = false,
      tls = opts.starttls and "auto" or "none",
      transcript = lines and function(mark, line) lines[#lines + 1] = mark .. line end,
    })
    for _, domain in ipairs(plan[server]) do
      local code, text, enhanced = c:cmd("ETRN", domain)
      rows[#rows + 1] = {domain = domain, code = code, enhanced = enhanced, text = text}
    end
  end)
  if c then
    if ok or err.kind == "smtp" then pcall(c.quit, c) end
    c:close()
  end
  if not ok then
    local text = type(err) == "table" and err.text or tostring(err)
    local stage = type(err) == "table" and err.stage or "?"
    local failure = {stage = stage, code = type(err) == "table" and err.code or nil,
                     enhanced = type(err) == "table" and err.enhanced or nil, text = text}
    for i = #rows + 1, #plan[server] do
      rows[i] = {domain = plan[server][i], failure = failure}
    end
  end
  return rows, lines
end

local jobs = {}
for i, server in ipairs(servers) do
  jobs[i] = task.spawn(ask, server)
end

local bad = 0
for i, server in ipairs(servers) do
  local rows, lines = jobs[i]:wait()
  for _, r in ipairs(rows) do
    local parts = {server, r.domain}
    if r.failure then
      local f = r.failure
      parts[#parts + 1] = "FAIL " .. f.stage
      if f.code then parts[#parts + 1] = tostring(f.code) end
      if f.enhanced then parts[#parts + 1] = f.enhanced end
      parts[#parts + 1] = (f.text or ""):gsub("%s*\n%s*", " ")
      bad = bad + 1
    else
      parts[#parts + 1] = tostring(r.code)
      if r.enhanced then parts[#parts + 1] = r.enhanced end
      parts[#parts + 1] = (r.text:gsub("%s*\n%s*", " "))
      if r.code < 250 or r.code > 253 then bad = bad + 1 end
    end
    print(table.concat(parts, " "))
  end
  if lines then
    for _, l in ipairs(lines) do print("    " .. l) end
  end
end

os.exit(bad == 0 and 0 or 1)
