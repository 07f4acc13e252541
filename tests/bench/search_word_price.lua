-- wrk: GET /v1/products?q=<word>&min_price=<p>&max_price=<4p> (default sort: relevance), the
-- word drawn from HAAT_BENCH_WORDS (brands and items of the seed), p log-uniform in
-- [e^6, e^15] paise, as in pgbench's script for the same SQL (infra/dev/bench.sh).
local words = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    for line in io.lines(os.getenv("HAAT_BENCH_WORDS")) do
        words[#words + 1] = line
    end
    math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
    local lo = math.floor(math.exp(6 + math.random(0, 9000) / 1000))
    local path = string.format("/v1/products?q=%s&min_price=%d&max_price=%d",
                               words[math.random(#words)], lo, lo * 4)
    return wrk.format("GET", path)
end
