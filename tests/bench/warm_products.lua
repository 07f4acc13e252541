-- wrk: reads every product of HAAT_BENCH_IDS once (the threads share them out by index), then
-- stops: fills the server's product cache before the measured GET scenarios.
-- A thread's connections share its position: a few ids are read twice at the end.
local ids = {}
local counter = 0
local nthreads = 0

function setup(thread)
    counter = counter + 1
    nthreads = counter
    thread:set("index", counter)
end

function init(args)
    for line in io.lines(os.getenv("HAAT_BENCH_IDS")) do
        ids[#ids + 1] = line
    end
    step = tonumber(os.getenv("HAAT_BENCH_THREADS") or "2")
    next_id = index
end

function request()
    local id = ids[next_id] or ids[1]
    next_id = next_id + step
    return wrk.format("GET", "/v1/products/" .. id)
end

function response(status, headers, body)
    if next_id > #ids then
        wrk.thread:stop()
    end
end
