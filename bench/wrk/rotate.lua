-- Sends prepared requests in turn and checks every answer.
--
--   wrk -t2 -c16 -d15s --latency -s bench/wrk/rotate.lua http://127.0.0.1:8731 -- \
--       REQUESTS_FILE THREADS MODE EXPECT_STATUS [EXPECT_LOCATION]
--
-- REQUESTS_FILE (written by bench/lesson_load.py) has one request a line, tab-separated:
--   METHOD <tab> PATH <tab> COOKIE <tab> FORM_BODY
-- COOKIE (a learner's session cookie, "name=value") and FORM_BODY (urlencoded) may be empty.
-- Thread t (1-based) sends lines t, t+THREADS, t+2*THREADS…, so no two threads send the same one.
-- MODE "cycle" starts again at the top when the list is used up (page loads); MODE "once" is for
-- requests that may be sent only once (quiz submissions): it still answers wrk, but every
-- request past the end is counted as "exhausted" and the measurement is invalid.
-- An answer counts as "bad" unless its status is EXPECT_STATUS and, when EXPECT_LOCATION (a Lua
-- pattern) is given, its Location header matches it. done() prints one line that
-- lesson_load.py reads: "BENCH-CHECK ok=<n> bad=<n> exhausted=<n>".

local threads = {}
local thread_count = 0

function setup(thread)
    thread_count = thread_count + 1
    thread:set("tid", thread_count)
    table.insert(threads, thread)
end

function init(args)
    entries = {}
    for line in io.lines(args[1]) do
        local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
        local headers = {}
        if cookie ~= "" then
            headers["Cookie"] = cookie
        end
        if body == "" then
            body = nil
        else
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        end
        table.insert(entries, {method, path, headers, body})
    end
    step = tonumber(args[2])
    mode = args[3]
    expect_status = tonumber(args[4])
    expect_location = args[5] or ""
    index = tid
    prepared = {}
    ok, bad, exhausted = 0, 0, 0
end

function request()
    if index > #entries then
        if mode == "once" then
            exhausted = exhausted + 1
        end
        index = ((index - 1) % #entries) + 1
    end
    local current = index
    index = index + step
    local formatted = prepared[current]
    if formatted == nil then
        local e = entries[current]
        formatted = wrk.format(e[1], e[2], e[3], e[4])
        prepared[current] = formatted
    end
    return formatted
end

function response(status, headers, body)
    if status ~= expect_status then
        bad = bad + 1
    elseif expect_location ~= "" and not string.find(headers["Location"] or "", expect_location) then
        bad = bad + 1
    else
        ok = ok + 1
    end
end

function done(summary, latency, requests)
    local total_ok, total_bad, total_exhausted = 0, 0, 0
    for _, thread in ipairs(threads) do
        total_ok = total_ok + thread:get("ok")
        total_bad = total_bad + thread:get("bad")
        total_exhausted = total_exhausted + thread:get("exhausted")
    end
    io.write(string.format("BENCH-CHECK ok=%d bad=%d exhausted=%d\n", total_ok, total_bad, total_exhausted))
end
