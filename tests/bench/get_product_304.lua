-- wrk: GET /v1/products/{id} with If-None-Match naming the product's version (the seed's
-- products are all at version 1), for a random id from HAAT_BENCH_IDS: every answer a 304.
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
    return wrk.format("GET", "/v1/products/" .. ids[math.random(#ids)],
                      {["If-None-Match"] = '"1"'})
end
