-- wrk: GET /v1/products/{id} for a random product id from the file in HAAT_BENCH_IDS
-- (one id a line, written by infra/dev/bench.sh).
local ids = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    for line in io.lines(os.getenv("HAAT_BENCH_IDS")) do
        ids[#ids + 1] = line
    end
    math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
    return wrk.format("GET", "/v1/products/" .. ids[math.random(#ids)])
end
