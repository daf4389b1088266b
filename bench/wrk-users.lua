-- wrk script for the scimsh benchmarks: drives the sandbox's Users endpoints with ids read from a file.
--
--   wrk -t2 -c8 -d5s -s bench/wrk-users.lua http://127.0.0.1:PORT -- IDS_FILE MODE BASE_PATH TOKEN
--
-- MODE is PATCH (a path-less PatchOp replacing displayName, the body scimsh and ODM clients send; every
-- request carries a new value so each one really changes the store), GET (GET /Users/{id}) or LIST
-- (GET /Users?startIndex=N&count=100, walking the pages). Ids are taken round-robin, each thread starting
-- at a different offset, over keep-alive connections.

local ids = {}
local counter = 0
local mode = "PATCH"
local base = "/api/v1/scim"
local headers = {}
local pages = 1

-- setup() runs in the main Lua state once per thread, before that thread's init(); `threadno` becomes a
-- global of the thread's own state.
local created = 0
function setup(thread)
    thread:set("threadno", created)
    created = created + 1
end

function init(args)
    local path = args[1]
    mode = args[2] or "PATCH"
    base = args[3] or base
    local token = args[4] or "scimsh-sandbox-admin"
    for line in io.lines(path) do
        if #line > 0 then ids[#ids + 1] = line end
    end
    if #ids == 0 then error("no ids in " .. path) end
    pages = math.max(1, math.floor(#ids / 100))
    counter = (threadno or 0) * 7919
    headers["Authorization"] = "Bearer " .. token
    headers["Accept"] = "application/scim+json"
    if mode == "PATCH" then headers["Content-Type"] = "application/scim+json" end
end

function request()
    counter = counter + 1
    if mode == "LIST" then
        local start = ((counter % pages) * 100) + 1
        return wrk.format("GET", base .. "/Users?startIndex=" .. start .. "&count=100", headers)
    end
    local id = ids[(counter % #ids) + 1]
    if mode == "GET" then
        return wrk.format("GET", base .. "/Users/" .. id, headers)
    end
    local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
        .. '"Operations":[{"op":"replace","value":{"displayName":"wrk ' .. (threadno or 0) .. "-" .. counter .. '"}}]}'
    return wrk.format("PATCH", base .. "/Users/" .. id, headers, body)
end
