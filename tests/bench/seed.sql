-- Bench seed (infra/dev/bench.sh): 100,000 products from 1,000 sellers, generated in SQL in a
-- few seconds. Deterministic (setseed). Listings look like real ones: a title of brand,
-- adjective, item, colour and model number; a description about the same item with Hindi
-- words and the stock phrases sellers use ("bill available", "urgent sale", ...); prices
-- spread log-uniformly from Rs 4 to Rs 88,000; 25 cities, 3 conditions, 12 categories; 90 %
-- active, 4 % sold out, 4 % draft, 2 % archived; created over the past year.
--
-- Product ids are uuid(lpad(hex(n), 32, '0')) for n = 1..100000, so that pgbench can make
-- the id of a random product from an integer (its scripts: infra/dev/bench.sh). Sellers are
-- user ids; products.seller_id has no foreign key (migrations/0003_catalog.sql), so no user
-- rows are needed. bench_words holds the search vocabulary for the load generators.
\set ON_ERROR_STOP 1
SELECT setseed(0.42);

CREATE TABLE bench_vocab AS SELECT
  ARRAY['samsung','apple','xiaomi','oneplus','realme','vivo','oppo','sony','lg','boat','jbl',
        'dell','hp','lenovo','asus','acer','canon','nikon','philips','bajaj','prestige',
        'havells','nike','adidas','puma','bata','titan','fastrack','honda','hero'] AS brand,
  ARRAY['phone','laptop','tablet','headphones','earbuds','speaker','camera','lens','tv',
        'monitor','keyboard','mouse','charger','watch','shoes','sneakers','kurta','saree',
        'jeans','shirt','jacket','bag','backpack','wallet','sofa','chair','table','bed',
        'mattress','almirah','cooler','fan','mixer','grinder','cooker','kettle','bottle',
        'cycle','helmet','scooter','bike','bat','ball','racket','dumbbell','treadmill','novel',
        'textbook','comics','doll','puzzle','blocks','stroller','cradle','perfume','lipstick',
        'trimmer','dryer','guitar','lamp'] AS noun,
  ARRAY['mint','original','sealed','branded','vintage','classic','premium','compact',
        'portable','wireless','bluetooth','smart','digital','automatic','heavy','lightweight',
        'durable','stylish','cotton','leather','wooden','steel','genuine','imported',
        'handmade','refurbished','spare','latest','slim','large'] AS adj,
  ARRAY['black','white','red','blue','green','silver','gold','grey','pink','yellow','brown',
        'orange'] AS colour,
  ARRAY['sasta','badhiya','accha','naya','purana','bilkul','ekdum','mast','jhakaas',
        'zabardast','ghar','dukaan','saaf','sundar','jaldi','turant','sahi','asli','khaas',
        'pakka'] AS hindi,
  ARRAY['bill available','urgent sale','price negotiable','box included',
        'home delivery possible','only serious buyers','no exchange','lightly used',
        'one year old','under warranty','cash on delivery','original charger','no scratches',
        'minor scratches','well maintained','single owner','gift received','moving out sale',
        'fixed price','call after six','best offer','never repaired','fully working',
        'with accessories','pickup only','upi accepted','genuine product',
        'brand new condition','company sealed','dealer warranty'] AS phrase,
  ARRAY['Mumbai','Delhi','Bengaluru','Hyderabad','Chennai','Kolkata','Pune','Ahmedabad',
        'Jaipur','Lucknow','Kochi','Indore','Bhopal','Patna','Chandigarh','Nagpur','Surat',
        'Vadodara','Coimbatore','Mysuru','Goa','Guwahati','Bhubaneswar','Dehradun','Ranchi']
        AS city,
  ARRAY['electronics','mobiles','fashion','home','books','sports','vehicles','furniture','kids',
        'beauty','toys','other'] AS category,
  ARRAY['new','used','refurbished'] AS cond;

-- The words people search for: brands and items.
CREATE TABLE bench_words AS
SELECT row_number() OVER () AS n, w AS word
FROM bench_vocab, unnest(brand || noun) AS w;

CREATE TEMP TABLE seed AS
SELECT g,
       random() AS r_status,
       1 + floor(random() * 1000)::int AS seller_n,
       1 + floor(random() * 30)::int AS b, 1 + floor(random() * 60)::int AS n,
       1 + floor(random() * 30)::int AS a, 1 + floor(random() * 30)::int AS a2,
       1 + floor(random() * 12)::int AS c,
       1 + floor(random() * 20)::int AS h1, 1 + floor(random() * 20)::int AS h2,
       1 + floor(random() * 30)::int AS p1, 1 + floor(random() * 30)::int AS p2,
       1 + floor(random() * 30)::int AS p3,
       1 + floor(random() * 25)::int AS ci, 1 + floor(random() * 12)::int AS cat,
       1 + floor(random() * 3)::int AS co,
       chr(97 + floor(random() * 26)::int) || floor(random() * 1000)::int AS model,
       round(exp(6 + random() * 10))::bigint AS price,
       1 + floor(random() * 20)::int AS stock,
       now() - random() * interval '365 days' AS created
FROM generate_series(1, 100000) g;

INSERT INTO products (id, seller_id, title, description, category, condition, price_minor,
                      currency, stock, status, city, images, created_at, updated_at)
SELECT lpad(to_hex(s.g), 32, '0')::uuid,
       md5('bench-seller-' || s.seller_n)::uuid,
       initcap(v.brand[s.b]) || ' ' || v.adj[s.a] || ' ' || v.noun[s.n] || ' '
           || v.colour[s.c] || ' ' || s.model,
       initcap(v.noun[s.n]) || ' by ' || initcap(v.brand[s.b]) || ', ' || v.adj[s.a2]
           || ' and ' || v.colour[s.c] || '. ' || initcap(v.hindi[s.h1]) || ' ' || v.hindi[s.h2]
           || ' deal: ' || v.phrase[s.p1] || ', ' || v.phrase[s.p2] || ', ' || v.phrase[s.p3]
           || '. Model ' || s.model || '.',
       v.category[s.cat], v.cond[s.co], s.price, 'INR',
       CASE WHEN s.r_status >= 0.90 AND s.r_status < 0.94 THEN 0 ELSE s.stock END,
       CASE WHEN s.r_status < 0.90 THEN 'active' WHEN s.r_status < 0.94 THEN 'sold_out'
            WHEN s.r_status < 0.98 THEN 'draft' ELSE 'archived' END,
       v.city[s.ci],
       jsonb_build_array('https://img.haat.dev/p/' || s.g || '/1.jpg',
                         'https://img.haat.dev/p/' || s.g || '/2.jpg'),
       s.created, s.created
FROM seed s CROSS JOIN bench_vocab v;

-- Steady state: the GIN pending list merged, statistics and the visibility map current.
VACUUM ANALYZE products;
