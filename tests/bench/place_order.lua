-- wrk: POST /v1/orders of one unit of a random bench order product (ids
-- 00000000-0000-0000-0000-<hex(1000000 + k)>, k = 1..HAAT_BENCH_ORDER_PRODUCTS, seeded by
-- infra/dev/bench.sh with ample stock) as the buyer whose token is in HAAT_BENCH_TOKEN, each
-- request with its own Idempotency-Key (thread seed, a counter and a random number).
local counter = 0
local sent = 0
local token, products

local address = '"shipping_address":{"name":"Bench Buyer","line1":"1 Load Street",' ..
                '"city":"Pune","state":"MH","postal_code":"411001","country":"IN",' ..
                '"phone":"+919876543210"}'

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    token = os.getenv("HAAT_BENCH_TOKEN")
    products = tonumber(os.getenv("HAAT_BENCH_ORDER_PRODUCTS"))
    math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
    sent = sent + 1
    local id = string.format("00000000-0000-0000-0000-%012x", 1000000 + math.random(products))
    local body = string.format('{"items":[{"product_id":"%s","quantity":1}],%s}', id, address)
    local headers = {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-%d-%d-%d-%d", seed or 0, sent,
                                            math.random(1, 1000000000), os.time()),
    }
    return wrk.format("POST", "/v1/orders", headers, body)
end
