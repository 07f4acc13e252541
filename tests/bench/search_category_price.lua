-- wrk: GET /v1/products?category=<slug>&sort=price_asc (first page, 20 items), the category
-- drawn from the twelve seeded ones, as in pgbench's script for the same SQL.
local categories = {"electronics", "mobiles", "fashion", "home", "books", "sports", "vehicles",
                    "furniture", "kids", "beauty", "toys", "other"}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
    return wrk.format("GET", "/v1/products?category=" .. categories[math.random(#categories)] ..
                      "&sort=price_asc")
end
