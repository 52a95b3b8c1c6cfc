-- mxtest: send a test message through every MX exchange of each domain and report which fail
--
--   gos3lua mxtest.lua example.com example.org
--   gos3lua mxtest.lua --to me@example.com --transcript example.com
--   gos3lua mxtest.lua --quit-after rcpt --json example.com      # stop before DATA
--
-- For each domain: every exchange (all of them, in preference order), every
-- address of each exchange; connect, EHLO, STARTTLS when offered, MAIL,
-- RCPT, DATA with a test message, QUIT. One line per exchange address:
--
--   example.com mx1.example.com 192.0.2.10 OK
--   example.com mx2.example.com 192.0.2.20 FAIL rcpt 554 5.7.1 Relay access denied
--   example.com mx3.example.com 2001:db8::3 FAIL connect connection refused
--
-- Everything is probed at once (--jobs at a time); the output order is the
-- order of the arguments, then preference, then address. Exit status 0 when
-- every exchange accepted the message, 1 when any failed, 2 on bad usage.
local args = require("args")
local dns = require("dns")
local smtp = require("smtp")
local task = require("task")

local STAGES = {connect = 1, ehlo = 2, starttls = 3, mail = 4, rcpt = 5, data = 6}

local opts = args.parse{
  name = "mxtest.lua",
  description = "Send a test message through every MX exchange of each domain and report which fail.",
  options = {
    {nil, "dns", metavar = "SERVER", help = "DNS server (host[:port]) instead of the system's resolvers"},
    {nil, "from", metavar = "ADDR", help = "envelope sender (default mxtest@ this host's name)"},
    {nil, "to", metavar = "ADDR", help = "recipient (default postmaster@DOMAIN)"},
    {nil, "port", type = "integer", default = 25, help = "SMTP port of every exchange"},
    {nil, "timeout", type = "duration", default = "30s", help = "for each step (connect, each reply, TLS; DNS queries at most 5s)"},
    {nil, "quit-after", metavar = "STAGE", help = "stop after connect, ehlo, starttls, mail or rcpt (no message sent)"},
    {nil, "no-tls", type = "boolean", help = "do not use STARTTLS even when offered"},
    {nil, "helo", metavar = "NAME", help = "EHLO name (default this host's name)"},
    {"j", "jobs", type = "integer", default = 100, help = "exchange addresses probed at once"},
    {nil, "transcript", type = "boolean", help = "print each conversation, swaks-style, under its line"},
    {nil, "json", type = "boolean", help = "print a JSON array of results instead of lines"},
  },
  positional = {
    {"DOMAIN", multiple = true, required = true, help = "domains to test"},
  },
}

local quit_after = opts.quit_after
if quit_after and not STAGES[quit_after] then
  io.stderr:write("mxtest.lua: --quit-after: want connect, ehlo, starttls, mail or rcpt, not '", quit_after, "'\n")
  os.exit(2)
end
local function usage(msg)
  io.stderr:write("mxtest.lua: ", msg, "\ntry mxtest.lua --help\n")
  os.exit(2)
end
if opts.jobs < 1 then usage("--jobs must be at least 1") end
if opts.port < 1 or opts.port > 65535 then usage("--port must be 1-65535, not " .. opts.port) end
if opts.timeout <= 0 then usage("--timeout must be positive") end
-- A DNS query is a step too, but it needs no more than a resolver's usual 5 s.
local dns_opts = {server = opts.dns, timeout = math.min(opts.timeout, 5)}
-- Addresses as servers know them: an internationalized domain in its
-- IDNA (xn--) form, in the envelope (smtp does that) and the headers alike.
local function ascii_address(a)
  local user, domain = a:match("^(.*)@([^@]+)$")
  if not domain then return a end
  local ok, d = pcall(dns.ascii, domain)
  return ok and user .. "@" .. d or a
end
local from = ascii_address(opts.from or ("mxtest@" .. smtp.hostname()))

local DAYS = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
local MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
local function rfc5322_date()
  local t = os.date("!*t")
  return string.format("%s, %02d %s %04d %02d:%02d:%02d +0000",
    DAYS[t.wday], t.day, MONTHS[t.month], t.year, t.hour, t.min, t.sec)
end

local function message(domain, exchange, address, to)
  local ok, ascii = pcall(dns.ascii, domain)
  if ok then domain = ascii end -- headers and body stay 7-bit
  return table.concat({
    "From: <" .. from .. ">",
    "To: <" .. to .. ">",
    "Subject: Test via " .. exchange .. " for " .. domain,
    "Date: " .. rfc5322_date(),
    "Message-ID: <" .. os.time() .. "." .. math.random(1e9) .. "@mxtest>",
    "X-Mailer: gos3lua mxtest.lua",
    "",
    "A test message from mxtest.lua, sent through " .. exchange .. " (" .. address .. ")",
    "for the domain " .. domain .. ". Nothing needs to be done with it.",
    "",
  }, "\r\n")
end

-- One conversation; returns a result row's outcome fields.
local function probe(domain, exchange, address)
  local to = ascii_address(opts.to or ("postmaster@" .. domain))
  local lines = opts.transcript and {} or nil
  local c
  local function stop(stage) return quit_after == stage end
  local ok, err = pcall(function()
    c = smtp.connect(address, {
      port = opts.port, timeout = opts.timeout, helo = opts.helo, ehlo = false,
      tls = "none", verify = false, server_name = exchange,
      transcript = lines and function(mark, line) lines[#lines + 1] = mark .. line end,
    })
    if stop("connect") then return end
    local ext = c:ehlo(opts.helo)
    if stop("ehlo") then return end
    if ext.STARTTLS and not opts.no_tls then c:starttls() end
    if stop("starttls") then return end
    c:mail(from)
    if stop("mail") then return end
    c:rcpt(to)
    if stop("rcpt") then return end
    c:data(message(domain, exchange, address, to))
  end)
  if c then
    -- Say goodbye unless the connection itself failed (that would only
    -- wait for another timeout).
    if ok or err.kind == "smtp" then pcall(c.quit, c) end
    c:close()
  end
  if ok then return {ok = true, transcript = lines} end
  if type(err) ~= "table" then err = {kind = "error", stage = "?", text = tostring(err)} end
  return {ok = false, stage = err.stage or "?", code = err.code, enhanced = err.enhanced,
          text = (err.text or err.message or ""):gsub("%s*\n%s*", " "), kind = err.kind, transcript = lines}
end

-- Rows, in output order: per domain, filled in once its DNS is known.
local rows = {}          -- rows[i] = list of rows of domain i (nil until resolved)
local cursor = {d = 1, r = 1}
local failed = 0
local all = {}

local function line(row)
  local s = table.concat({row.domain, row.exchange or "-", row.address or "-"}, " ")
  if row.ok then return s .. " OK" end
  local parts = {s, "FAIL", row.stage}
  if row.code then parts[#parts + 1] = tostring(row.code) end
  if row.enhanced then parts[#parts + 1] = row.enhanced end
  if row.text ~= "" then parts[#parts + 1] = row.text end
  return table.concat(parts, " ")
end

local function emit(row)
  if not row.ok then failed = failed + 1 end
  if opts.json then
    all[#all + 1] = row
    return
  end
  print(line(row))
  if row.transcript then
    for _, l in ipairs(row.transcript) do print("    " .. l) end
  end
end

-- Print every finished row whose predecessors are all printed.
local function flush()
  while cursor.d <= #opts.domain do
    local list = rows[cursor.d]
    if not list then return end
    while cursor.r <= #list do
      local row = list[cursor.r]
      if not row.done then return end
      emit(row)
      cursor.r = cursor.r + 1
    end
    cursor.d = cursor.d + 1
    cursor.r = 1
  end
end

local probes = task.pool(opts.jobs)

local function fail_row(domain, exchange, address, stage, text, preference)
  return {domain = domain, exchange = exchange, preference = preference, address = address, ok = false,
          stage = stage, text = text, done = true}
end

-- "dns: query x.test MX: 192.0.2.53:53: no answer within 5s" after "FAIL dns"
-- needs no second "dns:".
local function dns_text(err)
  return (tostring(err):gsub("^dns: ", ""))
end

-- Resolve one domain's exchanges and their addresses, then queue a probe
-- per address.
local function resolve(i, domain)
  local list = {}
  local ok, mxs, reason = pcall(dns.mx, domain, dns_opts)
  if not ok then
    list[1] = fail_row(domain, nil, nil, "dns", dns_text(mxs))
  elseif #mxs == 0 then
    list[1] = fail_row(domain, nil, nil, "dns", reason or "no mail exchange")
  else
    -- Look every exchange up at once, keeping preference order.
    local lookups = {}
    for j, mx in ipairs(mxs) do
      lookups[j] = task.spawn(function() return pcall(dns.lookup, mx.exchange, dns_opts) end)
    end
    for j, mx in ipairs(mxs) do
      local lok, addrs, why = lookups[j]:wait()
      if not lok then
        list[#list + 1] = fail_row(domain, mx.exchange, nil, "dns", dns_text(addrs), mx.preference)
      elseif #addrs == 0 then
        list[#list + 1] = fail_row(domain, mx.exchange, nil, "dns", why or "no address", mx.preference)
      else
        for _, a in ipairs(addrs) do
          list[#list + 1] = {domain = domain, exchange = mx.exchange, preference = mx.preference, address = a}
        end
      end
    end
  end
  rows[i] = list
  flush()
  for _, row in ipairs(list) do
    if not row.done then
      probes:spawn(function()
        for k, v in pairs(probe(row.domain, row.exchange, row.address)) do row[k] = v end
        row.done = true
        flush()
      end)
    end
  end
end

local resolvers = task.pool(math.min(opts.jobs, 64))
for i, domain in ipairs(opts.domain) do
  resolvers:spawn(resolve, i, domain)
end
resolvers:wait()
probes:wait()
flush()

if opts.json then
  local function enc(v)
    local t = type(v)
    if t == "string" then
      return '"' .. v:gsub('[%c"\\]', function(ch)
        local esc = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
        return esc[ch] or string.format("\\u%04x", ch:byte())
      end) .. '"'
    elseif t == "table" then
      local out = {}
      for _, x in ipairs(v) do out[#out + 1] = enc(x) end
      return "[" .. table.concat(out, ",") .. "]"
    elseif v == nil then
      return "null"
    end
    return tostring(v)
  end
  local keys = {"domain", "exchange", "preference", "address", "ok", "stage", "code", "enhanced", "text", "transcript"}
  print("[")
  for n, row in ipairs(all) do
    local fields = {}
    for _, k in ipairs(keys) do
      if row[k] ~= nil then fields[#fields + 1] = '"' .. k .. '":' .. enc(row[k]) end
    end
    print("{" .. table.concat(fields, ",") .. "}" .. (n < #all and "," or ""))
  end
  print("]")
end

os.exit(failed == 0 and 0 or 1)
