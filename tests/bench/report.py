#!/usr/bin/env python3
"""make bench's report: the Markdown table (var/bench/latest.md) and the machine-readable
var/bench/latest.json from the TSV infra/dev/bench.sh writes, with each goal of issue 15
judged on figures of the same run.

Usage: report.py RESULTS_TSV OUT_MD OUT_JSON"""
import json
import sys
import time

TITLES = {
    "get_product": "GET /v1/products/{id}",
    "get_product_304": "GET /v1/products/{id}, If-None-Match matching (304)",
    "get_product_c4": "GET /v1/products/{id}, 4 connections (pgbench at 4 clients)",
    "get_product_c1024": "GET /v1/products/{id}, 1024 connections",
    "search_word_price": "search: word + price range",
    "search_word_price_reference": "search: word + price range, today's SQL (pgbench only)",
    "search_category_price": "search: category, sort=price_asc",
    "place_order": "place order (POST /v1/orders)",
    "healthz": "GET /healthz",
    "get_streams": "GET /v1/products/{id} with the streams open",
}


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def main():
    tsv, out_md, out_json = sys.argv[1:4]
    meta, tps, rows = {}, {}, []
    for line in open(tsv):
        parts = line.rstrip("\n").split("\t")
        if parts[0] == "tps":
            tps[parts[1]] = num(parts[2])
        elif parts[0] == "row":
            rows.append(parts[1].split("|"))
        else:
            meta[parts[0]] = parts[1]
    scen, extra = [], {}
    threads = None
    for r in rows:
        threads, kind = r[0], r[1]
        if kind in ("rss", "rss_c1024", "invalidation", "streams", "idle"):
            extra[kind] = [num(x) for x in r[2:]]
            continue
        rps, p50, p99, bad = (num(x) for x in r[2:6])
        t = tps.get(kind)
        scen.append({"scenario": kind, "rps": rps, "p50_ms": p50, "p99_ms": p99,
                     "non_2xx": int(bad or 0), "pgbench_tps": t,
                     "ratio": round(rps / t, 2) if t else None})
        if len(r) > 6 and kind.startswith("get_product"):
            scen[-1]["db_reads"] = int(num(r[6]) or 0)  # product cache misses in the run
    ref = tps.get("search_word_price_reference")
    scen.append({"scenario": "search_word_price_reference", "rps": None, "p50_ms": None,
                 "p99_ms": None, "non_2xx": 0, "pgbench_tps": ref, "ratio": None})
    by = {s["scenario"]: s for s in scen}

    def per_conn(kind):
        v = extra.get(kind)
        if not v or not v[0]:
            return None, None
        opened, before, with_, after = v
        kb = (with_ - before) / opened
        # returned: RSS 2 s after closing gave back at least 80 % of what they took
        returned = (with_ - after) >= 0.8 * (with_ - before) if with_ > before else True
        return round(kb, 1), returned

    idle_kb, idle_back = per_conn("idle")
    stream_kb, stream_back = per_conn("streams")
    rss_mb = round(extra["rss"][0] / 1024, 1) if "rss" in extra else None
    rss1024 = round(extra["rss_c1024"][0] / 1024, 1) if "rss_c1024" in extra else None
    cache_mb = (round(extra["rss_c1024"][1] / 1024, 1)
                if len(extra.get("rss_c1024", [])) > 1 and extra["rss_c1024"][1] is not None
                else None)
    inv = extra.get("invalidation", [None, None])
    g, w, hz = by.get("get_product", {}), by.get("search_word_price", {}), by.get("healthz", {})
    cat = by.get("search_category_price", {})

    def verdict(ok):
        return "met" if ok else "MISSED"

    goals = [
        ("GET product ≥ 2× pgbench same SQL (c=64)", g.get("ratio"), "≥ 2",
         verdict((g.get("ratio") or 0) >= 2)),
        ("GET product ≥ 0.5× /healthz", round(g["rps"] / hz["rps"], 2) if hz.get("rps") else None,
         "≥ 0.5", verdict(hz.get("rps") and g["rps"] >= 0.5 * hz["rps"])),
        ("If-None-Match matching: 304 with no database round trip (database reads in the run)",
         by.get("get_product_304", {}).get("db_reads"), "0, all 304",
         verdict(by.get("get_product_304", {}).get("non_2xx") == 0 and
                 by.get("get_product_304", {}).get("db_reads") == 0)),
        ("search word + price ≥ 4× today's SQL (pgbench, same run)",
         round(w["rps"] / ref, 2) if ref else None, "≥ 4",
         verdict(ref and w["rps"] >= 4 * ref)),
        ("search word + price p99", w.get("p99_ms"), "≤ 50 ms",
         verdict((w.get("p99_ms") or 1e9) <= 50)),
        ("search category + price sort p99", cat.get("p99_ms"), "≤ 20 ms",
         verdict((cat.get("p99_ms") or 1e9) <= 20)),
        ("memory per idle connection (KB), returned after close", idle_kb, "≤ 12 KB",
         verdict(idle_kb is not None and idle_kb <= 12 and idle_back)),
        ("memory per streaming connection (KB), returned after close", stream_kb, "≤ 12 KB",
         verdict(stream_kb is not None and stream_kb <= 12 and stream_back)),
        ("peak RSS under c=1024 (MB)", rss1024, "≤ 32 MB", verdict((rss1024 or 1e9) <= 32)),
        ("peak RSS under c=1024 less the product cache's bytes (MB)",
         round(rss1024 - cache_mb, 1) if rss1024 and cache_mb is not None else None, "≤ 32 MB",
         verdict(rss1024 and cache_mb is not None and rss1024 - cache_mb <= 32)),
        ("product cache invalidation delay, median / max (ms)",
         f"{inv[0]} / {inv[1]}", "≤ 100 ms", verdict(inv[1] is not None and inv[1] <= 100)),
    ]
    doc = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": meta, "products": int(meta.get("products", 0)),
        "http_threads": threads, "scenarios": scen,
        "per_connection_kb": {"idle": idle_kb, "stream": stream_kb},
        "per_connection_returned": {"idle": idle_back, "stream": stream_back},
        "rss_mb": rss_mb, "rss_c1024_mb": rss1024, "product_cache_mb": cache_mb,
        "idle_connections": extra.get("idle"), "streams": extra.get("streams"),
        "invalidation_ms": {"median": inv[0], "max": inv[1]},
        "goals": [{"goal": a, "value": b, "target": c, "verdict": d} for a, b, c, d in goals],
    }
    with open(out_json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    md = [f"# haat bench — {doc['generated_at']}", "",
          f"{meta.get('products')} products (seeded in {meta.get('seed_s')}s), "
          f"{meta.get('cores')} cores, wrk {meta.get('wrk')}, pgbench {meta.get('pgbench')} on "
          f"the same SQL. Server: {meta.get('server')}, HTTP threads {threads}. "
          f"Config: {meta.get('config')}.", "",
          "| scenario | name | requests/s | p50 ms | p99 ms | non-2xx | pgbench tps (same SQL) "
          "| API/pgbench | database reads (cache misses) |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in scen:
        f = lambda v: "" if v is None else (f"{v:.0f}" if isinstance(v, float) and v >= 100
                                            else f"{v}")
        md.append(f"| {TITLES.get(s['scenario'], s['scenario'])} | `{s['scenario']}` | "
                  f"{f(s['rps'])} | {f(s['p50_ms'])} | {f(s['p99_ms'])} | {s['non_2xx']} | "
                  f"{f(s['pgbench_tps'])} | {f(s['ratio'])} | {s.get('db_reads', '')} |")
    md += ["", "| memory | connections | VmRSS before / with / 5 s after closing (MB) "
           "| per connection |", "|---|---:|---|---:|"]
    for kind, label in (("idle", "idle keep-alive connections"), ("streams", "event streams")):
        v = extra.get(kind)
        if v:
            md.append(f"| {label} | {v[0]:.0f} | {v[1] / 1024:.1f} / {v[2] / 1024:.1f} / "
                      f"{v[3] / 1024:.1f} | {per_conn(kind)[0]} KB |")
    md.append(f"| peak RSS (VmHWM) under the c=64 scenarios | | {rss_mb} MB | |")
    md.append(f"| peak RSS (VmHWM) under c=1024 (the product cache holds {cache_mb} MB of it) "
              f"| | {rss1024} MB | |")
    md += ["", "| goal (issue 15) | value | target | verdict |", "|---|---:|---|---|"]
    md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in goals]
    with open(out_md, "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
